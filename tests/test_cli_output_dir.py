"""The CLI's one output-folder helper, behind ``--plot`` and ``--doctor``."""

import pytest

from tinynet.cli._common import CLIError, prepare_output_dir


def test_it_creates_nested_folders_and_accepts_an_existing_one(tmp_path):
    target = tmp_path / "a" / "b"
    prepare_output_dir(str(target), "--plot")
    assert target.is_dir()
    prepare_output_dir(str(target), "--plot")  # already there: fine


def test_a_file_in_the_way_fails_naming_the_option(tmp_path):
    blocked = tmp_path / "taken"
    blocked.write_text("")
    with pytest.raises(CLIError, match=r"^--doctor '.*taken': exists and is not a directory$"):
        prepare_output_dir(str(blocked), "--doctor")


def test_a_parent_that_is_a_file_fails_naming_the_option(tmp_path):
    parent = tmp_path / "file"
    parent.write_text("")
    with pytest.raises(CLIError, match="--plot .*cannot create the directory"):
        prepare_output_dir(str(parent / "plots"), "--plot")
