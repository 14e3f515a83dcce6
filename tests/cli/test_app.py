from hengqi.cli import cli


def test_version_and_help(capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli(["--version"]) == 0
    assert "0.1.0" in capsys.readouterr().out
    assert cli(["--help"]) == 0


def test_unknown_command_is_a_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli(["no-such-command"]) == 2
    assert "no-such-command" in capsys.readouterr().err
