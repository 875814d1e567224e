"""A note's files: at most 25, at most 15 MB together, refused with the limit named."""

import pytest

from relance.errors import Invalid, PayloadTooLarge
from relance.services.notes import MAX_TOTAL_BYTES, FileDeclaration, check_files, readable, with_mention_tokens


def files(count: int, size: int = 10) -> list[FileDeclaration]:
    return [FileDeclaration(filename=f"{i}.pdf", size=size) for i in range(count)]


def test_twenty_five_files_and_fifteen_megabytes_are_accepted():
    check_files([], files(25))
    check_files([], [FileDeclaration(filename="big.pdf", size=MAX_TOTAL_BYTES)])


def test_a_twenty_sixth_file_is_refused_counting_those_already_there():
    with pytest.raises(Invalid) as refused:
        check_files([{"size": 1}] * 25, files(1))

    assert "attachments" in refused.value.fields and "25" in refused.value.message


def test_sixteen_megabytes_together_are_refused():
    with pytest.raises(PayloadTooLarge) as refused:
        check_files([{"size": 8 * 1024 * 1024}], files(1, 8 * 1024 * 1024))

    assert "15 MB" in refused.value.message


ANN, ANNA = "usr_" + "a" * 26, "usr_" + "b" * 26


def test_a_typed_name_becomes_the_mention_the_note_stores_the_longest_name_first():
    people = {ANN: "Ann Lee", ANNA: "Ann Lee-Smith"}

    assert with_mention_tokens("@Ann Lee-Smith and @ann lee, see this", people) == f"@{ANNA} and @{ANN}, see this"
    assert with_mention_tokens("mail ann@lee.example; @Ann Leeward", people) == "mail ann@lee.example; @Ann Leeward"
    assert with_mention_tokens(f"@{ANN} already", people) == f"@{ANN} already"


def test_a_notification_shows_the_mentions_by_name_as_the_timeline_does():
    body = f"@{ANN} and @{ANNA}: they asked for a statement"

    shown = readable(body, {ANN: "Ann Lee", ANNA: "Anna Diaz"})

    assert shown == "@Ann Lee and @Anna Diaz: they asked for a statement"
    assert readable(body, {ANN: "Ann Lee"}) == f"@Ann Lee and @{ANNA}: they asked for a statement"
