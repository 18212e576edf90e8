"""Ids read from query strings and forms: "²" and "٣" are digits to str.isdigit, and int() refuses
the first; such a value is no id (ignored, or not found), never a server error."""

from challenge.web.forms import parse_id, parse_ids


def test_parse_ids_keeps_only_ids():
    assert parse_ids(["3", "²", "", "0", "-1", "x", "2147483648", " 7 ", "12"]) == [3, 7, 12]
    assert parse_id("²") is None and parse_id("2147483647") == 2147483647


async def test_a_superscript_digit_in_a_query_is_no_server_error(client):
    assert (await client.get("/catalogue/?domain=²")).status_code == 200
    assert (await client.get("/catalogue/?domain=%C2%B2&q=x")).status_code == 200
