"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from 0-9 and A-Z without I, O, Z, S, V; the last one is a check character:
C18 = 31 - (sum(value(Ci) * Wi for i in 1..17) mod 31), with 31 mapped to 0.
"""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(ch) * weight for ch, weight in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(code: str) -> str:
    return code.strip().upper().replace(" ", "")


def is_valid(code: str) -> bool:
    code = normalise(code)
    if len(code) != 18 or any(ch not in ALPHABET for ch in code):
        return False
    # The registration-authority code (first character) and organisation category.
    if code[0] not in "123456789ANY":
        return False
    return check_character(code[:17]) == code[17]


def complete(first17: str) -> str:
    """Append the check character: used by the demo data and the tests."""
    return first17 + check_character(first17)
