"""Supply–demand matching (供需匹配): candidate offers for a need or a challenge, needs for an offer.

A match is scored from three signals, each of which the page explains:
- text similarity: TF-IDF cosine over Chinese character bigrams plus ASCII words, with the
  document frequencies taken from the published offers (computed in Python from text loaded
  in one query per table: no per-pair queries);
- the same domain;
- target indicators met: a need's indicator lines ("脱硫效率 ≥ 98%") or a challenge's assessment
  targets, compared with the offer's parameter of a similar name and the same unit, in the
  indicator's direction (at least / at most).
"""

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from challenge.challenges.models import AssessmentTarget, Challenge
from challenge.needs.models import Need, NeedStatus
from challenge.supply.models import MatchShown, Offer, OfferParameter, OfferStatus

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]+")
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
LIST_MARK = re.compile(r"^\s*(?:\d{1,2}\s*[.、)）]|[（(]\d{1,2}[)）])\s*")  # "2. ", "3、", "（1）"
AT_LEAST = ("≥", ">=", "＞", ">", "不低于", "不少于", "不小于", "达到", "以上", "高于", "大于", "超过")
AT_MOST = ("≤", "<=", "＜", "<", "不高于", "不超过", "不大于", "以下", "以内", "低于", "小于")
DOMAIN_BONUS = 0.12
INDICATOR_BONUS = 0.08  # per indicator met, at most MAX_INDICATOR_BONUS in all
MAX_INDICATOR_BONUS = 0.2
# Below this text similarity a candidate is noise, whatever its domain: the domain alone is no match.
MIN_SIMILARITY = 0.06
SHARED_TERMS = 4
# Function characters a grown term should neither start nor end with ("的高温烟气" -> "高温烟气").
EDGE_CHARS = "的和与及或在是为对将把了"
NAME_SIMILARITY = 0.5


# -- text ----------------------------------------------------------------------------------------
def tokens(text: str) -> list[str]:
    """Chinese as overlapping character bigrams (a one-character run as itself), ASCII as lower-case words."""
    found: list[str] = []
    for run in CJK_RUN.findall(text or ""):
        if len(run) == 1:
            found.append(run)
        found.extend(run[i:i + 2] for i in range(len(run) - 1))
    found.extend(word.lower() for word in ASCII_WORD.findall(text or ""))
    return found


class Corpus:
    """Inverse document frequencies over a set of documents (smoothed, so an unseen term still counts)."""

    def __init__(self, documents: list[list[str]]) -> None:
        self.size = len(documents)
        self.df = Counter(term for doc in documents for term in set(doc))

    def idf(self, term: str) -> float:
        return math.log((1 + self.size) / (1 + self.df.get(term, 0))) + 1

    def vector(self, doc: list[str]) -> dict[str, float]:
        counts = Counter(doc)
        vec = {term: (1 + math.log(n)) * self.idf(term) for term, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {term: v / norm for term, v in vec.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> tuple[float, list[tuple[float, str]]]:
    """The similarity and each shared term's share of it, largest first."""
    if len(a) > len(b):
        a, b = b, a
    parts = [(v * b[t], t) for t, v in a.items() if t in b]
    parts.sort(reverse=True)
    return sum(p for p, _t in parts), parts


def readable_terms(parts: list[tuple[float, str]], left: str, right: str, limit: int = SHARED_TERMS) -> list[str]:
    """The top shared bigrams grown into the longest string both texts contain ("脱硫" -> "湿法脱硫")."""
    terms: list[str] = []
    for _share, term in parts:
        if len(terms) >= limit:
            break
        grown = _grow(term, left, right)
        trimmed = grown.strip(EDGE_CHARS)
        grown = trimmed if len(trimmed) >= 2 else grown
        if any(grown in t or t in grown for t in terms):
            continue
        terms.append(grown)
    return terms


def _grow(term: str, left: str, right: str) -> str:
    if not CJK_RUN.fullmatch(term):
        return term
    best = term
    for start in _positions(left, term):
        lo, hi = start, start + len(term)
        while lo > 0 and CJK_RUN.match(left[lo - 1]) and left[lo - 1:hi] in right:
            lo -= 1
        while hi < len(left) and CJK_RUN.match(left[hi]) and left[lo:hi + 1] in right:
            hi += 1
        if hi - lo > len(best):
            best = left[lo:hi]
        if len(best) >= 8:
            break
    return best


def _positions(text: str, term: str, limit: int = 5) -> list[int]:
    found, start = [], text.find(term)
    while start >= 0 and len(found) < limit:
        found.append(start)
        start = text.find(term, start + 1)
    return found


# -- indicators ----------------------------------------------------------------------------------
@dataclass
class Indicator:
    name: str
    direction: str  # "min" (at least) or "max" (at most)
    value: float
    unit: str
    text: str


def _direction(text: str) -> str | None:
    first = None
    for words, direction in ((AT_LEAST, "min"), (AT_MOST, "max")):
        for word in words:
            at = text.find(word)
            if at >= 0 and (first is None or at < first[0]):
                first = (at, direction)
    return first[1] if first else None


def parse_indicator(text: str, *, name: str = "", unit: str = "") -> Indicator | None:
    """One indicator from a line such as "SO₂ 排放浓度 ≤ 35 mg/m³" (name, direction, value, unit)."""
    text = LIST_MARK.sub("", text).strip()
    number = NUMBER.search(text.replace(",", ""))
    direction = _direction(text)
    if number is None or direction is None:
        return None
    if not name:
        name = text[:number.start()]
        for word in (*AT_LEAST, *AT_MOST):
            name = name.replace(word, "")
        name = name.strip(" ：:，,。；;（(")
    if not unit:
        rest = text[number.end():]
        for word in (*AT_LEAST, *AT_MOST):
            rest = rest.replace(word, " ")  # "15 个百分点以上" -> unit "个百分点"
        unit = (rest.split() or [""])[0].strip("，,。；;）)")
    if not name:
        return None
    return Indicator(name=name, direction=direction, value=float(number.group()), unit=unit, text=text)


def need_indicators(need: Need) -> list[Indicator]:
    lines = re.split(r"[\n；;。]+", need.target_indicators or "")
    return [found for line in lines if (found := parse_indicator(line))]


def target_indicators(targets: list[AssessmentTarget]) -> list[Indicator]:
    found = []
    for target in targets:
        indicator = parse_indicator(f"{target.name} {target.target_value}", name=target.name, unit=target.unit)
        if indicator:
            found.append(indicator)
    return found


def _norm_unit(unit: str) -> str:
    return (unit or "").lower().replace(" ", "").replace("％", "%").replace("³", "3").replace("²", "2")


def _name_similarity(a: str, b: str) -> float:
    a, b = a.lower().replace(" ", ""), b.lower().replace(" ", "")
    if not a or not b:
        return 0.0
    if a in b or b in a:
        return 1.0
    ta, tb = set(tokens(a)), set(tokens(b))
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def indicators_met(indicators: list[Indicator], parameters: list[OfferParameter]) -> list[tuple[Indicator, OfferParameter]]:
    met = []
    for indicator in indicators:
        for parameter in parameters:
            if parameter.number is None or _name_similarity(indicator.name, parameter.name) < NAME_SIMILARITY:
                continue
            if indicator.unit and parameter.unit and _norm_unit(indicator.unit) != _norm_unit(parameter.unit):
                continue
            ok = parameter.number >= indicator.value if indicator.direction == "min" else parameter.number <= indicator.value
            if ok:
                met.append((indicator, parameter))
                break
    return met


# -- matching ------------------------------------------------------------------------------------
@dataclass
class Match:
    offer: Offer | None
    score: float
    similarity: float
    same_domain: bool
    terms: list[str]
    met: list[tuple[Indicator, OfferParameter]] = field(default_factory=list)
    need: Need | None = None
    challenge: Challenge | None = None

    @property
    def percent(self) -> int:
        return min(100, round(self.score * 100))


def offer_text(offer: Offer, parameters: list[OfferParameter]) -> str:
    return "\n".join([offer.name, offer.name, offer.summary, offer.core_process, offer.scope, offer.benefits_text,
                      *(p.name for p in parameters)])


def need_text(need: Need) -> str:
    return "\n".join([need.title, need.title, need.bottleneck, need.target_indicators, need.application_scenario,
                      need.expected_results])


def challenge_text(challenge: Challenge, targets: list[AssessmentTarget]) -> str:
    return "\n".join([challenge.title, challenge.title, challenge.summary, challenge.description,
                      *(t.name for t in targets)])


@dataclass
class Subject:
    """A need or a challenge, as matching sees it."""

    text: str
    domain_id: int | None
    indicators: list[Indicator]
    need: Need | None = None
    challenge: Challenge | None = None


class OfferIndex:
    """The published offers with their parameters and TF-IDF vectors, loaded in two queries."""

    def __init__(self, offers: list[Offer], parameters: dict[int, list[OfferParameter]]) -> None:
        self.offers = offers
        self.parameters = parameters
        self.texts = {o.id: offer_text(o, parameters.get(o.id, [])) for o in offers}
        docs = {o.id: tokens(self.texts[o.id]) for o in offers}
        self.corpus = Corpus(list(docs.values()))
        self.vectors = {oid: self.corpus.vector(doc) for oid, doc in docs.items()}

    @classmethod
    async def load(cls, offer_ids: list[int] | None = None) -> "OfferIndex":
        query = Offer.filter(status=OfferStatus.PUBLISHED).select_related("organisation", "domain")
        offers = await query.order_by("id")
        parameters: dict[int, list[OfferParameter]] = {}
        for row in await OfferParameter.filter(offer_id__in=[o.id for o in offers]).order_by("position", "id"):
            parameters.setdefault(row.offer_id, []).append(row)
        return cls(offers, parameters)

    def score(self, subject: Subject, offer: Offer) -> Match:
        vector = self.corpus.vector(tokens(subject.text))
        return self._score(subject, vector, offer)

    def _score(self, subject: Subject, vector: dict[str, float], offer: Offer) -> Match:
        similarity, parts = cosine(vector, self.vectors[offer.id])
        same_domain = bool(subject.domain_id and subject.domain_id == offer.domain_id)
        met = indicators_met(subject.indicators, self.parameters.get(offer.id, []))
        score = similarity + (DOMAIN_BONUS if same_domain else 0) + min(MAX_INDICATOR_BONUS, INDICATOR_BONUS * len(met))
        return Match(offer=offer, score=score, similarity=similarity, same_domain=same_domain,
                     terms=readable_terms(parts, subject.text, self.texts[offer.id]), met=met,
                     need=subject.need, challenge=subject.challenge)

    def rank(self, subject: Subject, limit: int = 5) -> list[Match]:
        vector = self.corpus.vector(tokens(subject.text))
        matches = [self._score(subject, vector, offer) for offer in self.offers]
        matches = [m for m in matches if m.similarity >= MIN_SIMILARITY]
        matches.sort(key=lambda m: (-m.score, m.offer.id))
        return matches[:limit]


def need_subject(need: Need) -> Subject:
    return Subject(text=need_text(need), domain_id=need.domain_id, indicators=need_indicators(need), need=need)


async def challenge_subject(challenge: Challenge) -> Subject:
    targets = await AssessmentTarget.filter(challenge_id=challenge.id).order_by("position", "id")
    return Subject(text=challenge_text(challenge, targets), domain_id=challenge.domain_id,
                   indicators=target_indicators(targets), challenge=challenge)


async def offers_for_need(need: Need, limit: int = 5) -> list[Match]:
    index = await OfferIndex.load()
    return index.rank(need_subject(need), limit)


async def offers_for_challenge(challenge: Challenge, limit: int = 5) -> list[Match]:
    index = await OfferIndex.load()
    return index.rank(await challenge_subject(challenge), limit)


# Needs an offer may serve: the ones the office has taken up (accepted), where the matching helps.
SERVABLE_NEED_STATES = [NeedStatus.ACCEPTED]


async def needs_for_offer(offer: Offer, limit: int = 5) -> list[Match]:
    """The accepted needs this offer may serve, best first (scored against the published offers' corpus)."""
    index = await OfferIndex.load()
    if offer.id not in index.vectors:
        parameters = await OfferParameter.filter(offer_id=offer.id).order_by("position", "id")
        index.parameters[offer.id] = parameters
        index.texts[offer.id] = offer_text(offer, parameters)
        index.vectors[offer.id] = index.corpus.vector(tokens(index.texts[offer.id]))
    needs = await Need.filter(status__in=SERVABLE_NEED_STATES).select_related("domain", "organisation").order_by("id")
    matches = [index.score(need_subject(need), offer) for need in needs]
    matches = [m for m in matches if m.similarity >= MIN_SIMILARITY]
    matches.sort(key=lambda m: (-m.score, m.need.id))
    return matches[:limit]


async def record_shown(matches: list[Match]) -> None:
    """Count each (offer, need|challenge) pair once for the funnel; showing it again adds nothing."""
    rows = []
    for match in matches:
        if match.need is not None:
            rows.append(MatchShown(offer_id=match.offer.id, subject_type="need", subject_id=match.need.id))
        elif match.challenge is not None:
            rows.append(MatchShown(offer_id=match.offer.id, subject_type="challenge", subject_id=match.challenge.id))
    if rows:
        await MatchShown.bulk_create(rows, ignore_conflicts=True)
