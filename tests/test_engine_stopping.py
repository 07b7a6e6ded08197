"""Stop strings, the rejoin rule and prompt-lookup drafts: the text-level rules, model-free."""

import torch

from jupyter_cursor.engine.speculation import lookup_draft
from jupyter_cursor.engine.stopping import OutputTracker, rejoin_point

ORIGINAL = "a = 1\nb = 2\nc = 3\nd = 4\n"


def test_rejoin_after_a_changed_line():
    output = "a = 1\nb = 20\nc = 3\n"
    resume = rejoin_point(output, ORIGINAL, window=6)
    assert resume == ORIGINAL.index("d = 4")
    assert output + ORIGINAL[resume:] == "a = 1\nb = 20\nc = 3\nd = 4\n"


def test_rejoin_after_an_inserted_line_and_after_a_deleted_one():
    inserted = "a = 1\nx = 9\nb = 2\n"
    assert (
        inserted + ORIGINAL[rejoin_point(inserted, ORIGINAL, 6) :]
        == "a = 1\nx = 9\nb = 2\nc = 3\nd = 4\n"
    )
    deleted = "a = 1\nc = 3\n"
    assert deleted + ORIGINAL[rejoin_point(deleted, ORIGINAL, 6) :] == "a = 1\nc = 3\nd = 4\n"


def test_no_rejoin_while_still_copying_before_the_edit():
    # The output is a prefix of the original: no edit has been made yet.
    assert rejoin_point("a = 1\nb = 2\n", ORIGINAL, 6) is None


def test_no_rejoin_on_a_tail_that_repeats_text_before_the_edit():
    # "a = 1\n" matches the original, but at its start, before the edit: a repetition.
    assert rejoin_point("a = 1\nz = 0\na = 1\n", ORIGINAL, 6) is None


def test_no_rejoin_on_an_ambiguous_tail():
    original = "x = 0\npass\ny = 0\npass\n"
    assert rejoin_point("x = 1\npass\n", original, 5) is None
    # A longer window tells the two places apart.
    assert rejoin_point("x = 1\ny = 0\npass\n", original, 11) == len(original)


def test_no_rejoin_with_a_window_longer_than_the_output():
    assert rejoin_point("b\n", ORIGINAL, 6) is None


def test_tracker_cuts_at_a_stop_string_and_never_shows_its_start():
    tracker = OutputTracker(stop=["<|end|>"])
    assert tracker.update("x = 1\n<|e") == ("x = 1\n", None)  # could be the stop string
    assert tracker.update("x = 1\n<|ex") == ("x = 1\n<|ex", None)  # it was not
    assert tracker.update("x = 1\n<|end|> more") == ("x = 1\n", "stop")


def test_tracker_holds_back_a_cut_multibyte_character():
    tracker = OutputTracker()
    assert tracker.update("caf\ufffd") == ("caf", None)
    assert tracker.update("café") == ("café", None)
    assert tracker.final("caf\ufffd") == "caf"


def test_tracker_appends_the_rest_of_the_original_on_rejoin():
    tracker = OutputTracker(original=ORIGINAL, rejoin_chars=6)
    assert tracker.update("a = 1\nb = 20\n") == ("a = 1\nb = 20\n", None)
    assert tracker.update("a = 1\nb = 20\nc = 3\n") == ("a = 1\nb = 20\nc = 3\nd = 4\n", "rejoined")


def test_draft_follows_the_latest_match_of_the_longest_ngram():
    ids = torch.tensor([5, 1, 2, 3, 9, 9, 1, 2, 3, 4, 7, 8, 0, 2, 3])
    # "2 3" last occurred before "4 7 8"; "0 2 3" never did, so the 2-gram decides.
    assert lookup_draft(ids, 3) == [4, 7, 8]
    assert lookup_draft(ids, 1) == [4]
    assert lookup_draft(torch.tensor([1, 2, 3]), 5) == []
    assert lookup_draft(ids, 0) == []
