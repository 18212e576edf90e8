"""Send queued mail once a request that queued some has been answered.

The outbox rows were committed with the event; delivering them after the response keeps the
request fast. Anything this misses (a crash, an SMTP outage) is retried by the periodic
delivery loop of each server and by `challenge send-mail`.
"""

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from challenge.mail.models import MailStatus, OutboxMessage
from challenge.mail.services import deliver_pending, watch_queued

log = logging.getLogger(__name__)
BATCH = 100
MAX_BATCHES = 10


class DeliverMailAfterResponse:
    def __init__(self, app: ASGIApp, settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Only a request that queued mail looks at the outbox: a query after every request
        # would cost every page (the periodic loop and `send-mail` take what is left).
        queued = watch_queued()
        await self.app(scope, receive, send)
        if not queued[0]:
            return
        try:
            # Batch after batch while there is a backlog (the one just queued is the newest).
            for _batch in range(MAX_BATCHES):
                if not await OutboxMessage.filter(status=MailStatus.PENDING).exists():
                    break
                sent, failed = await deliver_pending(self.settings, limit=BATCH)
                if sent + failed < BATCH:
                    break
        except Exception:  # noqa: BLE001 - the response is sent; the loop retries later
            log.exception("mail delivery after response failed")
