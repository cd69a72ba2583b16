"""loom.memo.SizedLRU: values made once, the least recently used dropped beyond the size bound."""
from loom.memo import SizedLRU


def test_values_are_made_once_and_the_least_recently_used_go_first():
    made = []

    def make(value):
        return lambda: made.append(value) or value

    memo = SizedLRU(10)
    assert memo.get_or_make("a", make("aaaa")) == "aaaa"
    assert memo.get_or_make("a", make("other")) == "aaaa" and made == ["aaaa"]
    memo.get_or_make("b", make("bbbb"))
    memo.get_or_make("a", make("x"))  # a is now the most recently used
    memo.get_or_make("c", make("cccc"))  # 12 > 10: b goes
    assert len(memo) == 2 and made == ["aaaa", "bbbb", "cccc"]
    assert memo.get_or_make("b", make("bbbb")) == "bbbb" and made[-1] == "bbbb"


def test_a_value_larger_than_the_bound_is_not_kept():
    memo = SizedLRU(3)
    assert memo.get_or_make("k", lambda: "four") == "four"
    assert len(memo) == 0
