"""Path parameters: `{name:int}` matches only what a database integer column can hold.

Starlette's own `int` convertor accepts any run of digits, so `/challenges/99999999999999999999`
reached the database and overflowed there (a 500). This one matches 0 to 2,147,483,647
(PostgreSQL's `integer`), so a larger number matches no route: 404. It replaces the `int`
convertor for every route of the app, routes added later included: `challenge.web` registers it
when imported, before any route table is built.
"""

from starlette.convertors import IntegerConvertor, register_url_convertor

MAX_INT = 2**31 - 1
# 0..2147483647, digit by digit (tests/web/test_limits.py checks it against MAX_INT).
INT32_REGEX = ("(?:[0-9]{1,9}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}"
               "|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])")


class BoundedIntConvertor(IntegerConvertor):
    regex = INT32_REGEX


register_url_convertor("int", BoundedIntConvertor())
