"""The one masking helper (SPEC §7): 王**, 欧***, J***; 11**************34; 138****0000."""

import pytest

from apps.core.masking import mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小明", "王**"),
        ("欧阳娜娜", "欧***"),
        ("John", "J***"),
        ("王", "王"),
        (" 李雷 ", "李*"),
        ("", ""),
        (None, ""),
    ],
)
def test_it_masks_a_name_as_its_first_character_and_a_star_per_other(name, masked):
    assert mask_name(name) == masked


def test_it_masks_an_18_character_id_as_its_first_two_and_last_two():
    assert mask_id_number("110105199001011234") == "11**************34"
    assert mask_id_number("11010519491231002X") == "11**************2X"


@pytest.mark.parametrize(
    ("number", "masked"),
    [("E12345678", "E1*****78"), ("H1234567890", "H1*******90"), ("12345", "12*45"), ("1234", "****"), ("", "")],
)
def test_it_masks_other_id_numbers_alike_and_short_ones_entirely(number, masked):
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [("13800000000", "138****0000"), ("13912345678", "139****5678"), ("1234567", "*******"), ("", "")],
)
def test_it_masks_a_phone_as_its_first_three_and_last_four_digits(number, masked):
    assert mask_phone(number) == masked


def test_a_masked_value_keeps_the_length():
    assert len(mask_id_number("110105199001011234")) == 18
    assert len(mask_name("欧阳娜娜")) == 4
