"""The open data's schemas, registered once and used twice: to write the OpenAPI 3.1 document and
to build each response (`public()` keeps exactly the properties a schema declares, so a field
the schema does not name, such as a bidder's e-mail or a score, can never leak into a response).
"""

from typing import Any

SCHEMAS: dict[str, dict[str, Any]] = {}


def schema(name: str, properties: dict[str, Any], *, description: str = "") -> dict[str, Any]:
    SCHEMAS[name] = {"type": "object", "description": description, "properties": properties,
                     "required": list(properties), "additionalProperties": False}
    return SCHEMAS[name]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str, **extra) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


TEXT = {"type": "string"}
INT = {"type": "integer"}
WAN = {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "description": "万元 (10,000 CNY), as a decimal string"}
TIME = nullable("string", format="date-time")
ANY_JSON = {"type": ["string", "number", "integer", "boolean", "array", "object", "null"]}

schema("Issuer", {"name": TEXT, "region_code": TEXT}, description="发榜单位")
schema("Target", {"name": TEXT, "target_value": TEXT, "unit": TEXT, "verification": TEXT},
       description="考核指标")
schema("Stage", {"name": TEXT, "deliverable": TEXT, "due_at": TIME, "teams_going_on": INT, "funding_wan": WAN},
       description="赛马阶段")
schema("Change", {"field": TEXT, "before": ANY_JSON, "after": ANY_JSON})
schema("Amendment", {"version": INT, "explanation": TEXT, "published_at": TIME, "changes": array(ref("Change"))},
       description="补充通知")
schema("Answer", {"id": INT, "question": TEXT, "answer": TEXT, "answered_at": TIME},
       description="答疑 (the asker is never published)")
schema("Document", {"kind": TEXT, "filename": TEXT, "size": INT, "url": TEXT},
       description="申报指南, 申报书模板, 正式通知 ...")
CHALLENGE = {
    "id": INT, "number": nullable("string"), "title": TEXT, "summary": TEXT,
    "mechanism": {"type": "string", "enum": ["open_call", "horse_race"]}, "status": TEXT, "status_label": TEXT,
    "domain": nullable("string"), "issuers": array(ref("Issuer")), "funding_wan": WAN, "delivery_months": INT,
    "opens_at": TIME, "closes_at": TIME, "published_at": TIME, "version": INT,
    "contact_name": TEXT, "contact_phone": TEXT, "url": TEXT,
}
schema("Challenge", CHALLENGE, description="A published challenge (榜单) as listed")
schema("ChallengeDetail", {
    **CHALLENGE, "description": TEXT, "eligibility": TEXT, "targets": array(ref("Target")),
    "stages": array(ref("Stage")), "amendments": array(ref("Amendment")), "answers": array(ref("Answer")),
    "documents": array(ref("Document")), "feed_url": TEXT,
}, description="A published challenge with its amendments, answered questions and documents")
schema("Proposed", {"rank": INT, "lead_organisation": TEXT, "partners": array(TEXT)},
       description="A team proposed (公示) or chosen (公告): organisations only, never scores or people")
schema("Notice", {
    "id": INT, "challenge_id": INT, "challenge_number": nullable("string"), "challenge_title": TEXT,
    "kind": {"type": "string", "enum": ["result", "stage"]}, "stage": nullable("string"), "status": TEXT,
    "revision": INT, "published_at": TIME, "period_ends_at": TIME, "announced_at": TIME, "announcement": TEXT,
    "teams": array(ref("Proposed")), "url": TEXT,
}, description="A result notice (公示) and, once announced, its result (结果公告)")
schema("CatalogueEntry", {
    "number": INT, "name": TEXT, "domain": TEXT, "domain_en": TEXT, "holder": TEXT, "scope": TEXT,
    "core_process": TEXT, "parameters": {"type": "array", "description": "main technical parameters"},
    "benefits": {"description": "overall benefits"}, "status": {"type": "string", "enum": ["listed", "withdrawn"]},
    "listed_at": {"type": "string", "format": "date"},
}, description="An entry of the green technology promotion catalogue (推广目录); withdrawn entries keep their number")
schema("Catalogue", {
    "version": INT, "published_at": nullable("string"), "reason": TEXT, "entries": array(ref("CatalogueEntry")),
}, description="The latest published version of the catalogue, exactly as frozen (its SHA-256 in X-Content-SHA256)")
for _name in ("Challenge", "Notice"):
    schema(f"{_name}Page", {"items": array(ref(_name)), "page": INT, "per_page": INT, "total": INT, "pages": INT})


def public(name: str, values: dict[str, Any]) -> dict[str, Any]:
    """The values of the schema's properties, in its order: nothing else goes out."""
    return {key: values[key] for key in SCHEMAS[name]["properties"]}


FILTERS = [
    {"name": "q", "in": "query", "schema": TEXT, "description": "text search (Chinese words of two characters too)"},
    {"name": "domain", "in": "query", "schema": INT},
    {"name": "mechanism", "in": "query", "schema": {"type": "string", "enum": ["open_call", "horse_race"]}},
    {"name": "status", "in": "query", "schema": TEXT},
    {"name": "region", "in": "query", "schema": TEXT, "description": "GB/T 2260 code of the issuer's region"},
    {"name": "funding_min", "in": "query", "schema": {"type": "number"}},
    {"name": "funding_max", "in": "query", "schema": {"type": "number"}},
    {"name": "sort", "in": "query", "schema": TEXT},
]
PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}
CACHED = {"ETag": {"schema": TEXT}, "Cache-Control": {"schema": TEXT}}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"200": {"description": description, "headers": CACHED,
                    "content": {"application/json": {"schema": ref(name)}}},
            "304": {"description": "Not modified (If-None-Match)"}}


def _csv(description: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": {"text/csv": {"schema": TEXT}}}}


def openapi(base_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "绿色技术揭榜挂帅平台开放数据 (open data of the green-technology challenges)",
                 "version": "1.0.0",
                 "description": "Published challenges, their amendments and answered questions, result notices "
                                "and announcements. Read-only, public, no personal data. CORS: any origin."},
        "servers": [{"url": f"{base_url}/api/v1"}],
        "paths": {
            "/challenges": {"get": {"summary": "Published challenges", "operationId": "listChallenges",
                                    "parameters": [*FILTERS, PAGE], "responses": _json("ChallengePage", "A page")}},
            "/challenges.csv": {"get": {"summary": "Published challenges as CSV", "operationId": "challengesCsv",
                                        "parameters": FILTERS, "responses": _csv("Every matching challenge")}},
            "/challenges/{challenge_id}": {"get": {
                "summary": "A published challenge", "operationId": "getChallenge",
                "parameters": [{"name": "challenge_id", "in": "path", "required": True, "schema": INT}],
                "responses": {**_json("ChallengeDetail", "The challenge"), "404": {"description": "Not public"}}}},
            "/notices": {"get": {"summary": "Result notices and announcements", "operationId": "listNotices",
                                 "parameters": [PAGE], "responses": _json("NoticePage", "A page")}},
            "/notices.csv": {"get": {"summary": "Result notices as CSV", "operationId": "noticesCsv",
                                     "responses": _csv("Every notice")}},
            "/catalogue": {"get": {"summary": "The green technology promotion catalogue (latest version)",
                                   "operationId": "getCatalogue",
                                   "responses": _json("Catalogue", "The latest published version")}},
            "/catalogue.csv": {"get": {"summary": "The promotion catalogue as CSV", "operationId": "catalogueCsv",
                                       "responses": _csv("Every entry of the latest version")}},
        },
        "components": {"schemas": SCHEMAS},
    }
