"""`make bench` measures what each benchmark's name and target say: a case named for prod + dr
renders exactly those two stacks. (The render case once rendered the default stacks, which grew
to three when staging joined them, against a target set for two.)"""

from __future__ import annotations

from pathlib import Path

from tools.bench import cases


def _stacks(argv: tuple[str, ...]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--stack"]


def test_every_case_named_for_prod_and_dr_renders_exactly_those(tmp_path: Path):
    named = [case for case in cases(tmp_path) if "prod + dr" in case.name]
    assert len(named) == 3
    for case in named:
        assert _stacks(case.argv) == ["prod", "dr"], case.name


def test_the_generated_graph_cases_render_nothing(tmp_path: Path):
    for case in cases(tmp_path):
        if "resources" in case.name:
            assert _stacks(case.argv) == [] and "--graph" in case.argv, case.name


def test_the_machine_reference_runs_none_of_this_repositorys_code():
    """The reference figure tells a slow machine from a slow change only if no change here can
    move it: in a fresh process it imports no module of the repository (nor any at all beyond
    the interpreter's start-up)."""
    import subprocess
    import sys

    from tools.bench import REFERENCE, ROOT

    list_modules = "\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    assert "range(500_000)" in REFERENCE
    shortened = REFERENCE.replace("range(500_000)", "range(10)")

    def modules_after(code: str) -> set[str]:
        return set(subprocess.run([sys.executable, "-c", code + list_modules], cwd=ROOT,
                                  capture_output=True, text=True, check=True).stdout.split())

    assert modules_after(shortened) == modules_after("")


def test_cases_and_the_reference_run_in_rounds(tmp_path: Path, monkeypatch):
    """A drift in the machine's speed must fall on every case alike: after one warm-up run each,
    every round runs each timed case once and then the reference; the one-run completion check
    comes last. Each case's figures come from its own runs."""
    import tools.bench as bench

    calls: list[tuple[str, ...]] = []

    def fake_run_once(argv: tuple[str, ...]) -> tuple[float, int]:
        calls.append(argv)
        return float(len(calls)), 1

    monkeypatch.setattr(bench, "run_once", fake_run_once)
    measured, reference = bench.measure(tmp_path, runs=3)

    timed = [case.argv for case in cases(tmp_path) if not case.runs]
    once = [case.argv for case in cases(tmp_path) if case.runs]
    ref = ("-c", bench.REFERENCE)
    assert len(timed) == 4 and len(once) == 1
    assert calls == timed + (timed + [ref]) * 3 + once
    round_length = len(timed) + 1
    assert reference == [float(len(timed) + round_length * r + round_length) for r in range(3)]
    by_name = {case.name: [t for t, _ in samples] for case, samples in measured}
    assert list(by_name) == [case.name for case in cases(tmp_path)]
    for position, case in enumerate(c for c in cases(tmp_path) if not c.runs):
        assert by_name[case.name] == [float(len(timed) + round_length * r + position + 1) for r in range(3)]
    assert by_name[cases(tmp_path)[-1].name] == [float(len(calls))]


def test_fewer_than_one_run_is_refused_before_anything_runs(monkeypatch, capsys):
    """`--runs 0` would leave nothing to take a median of: a one-line usage error and exit 2,
    before the graphs are generated or any command is timed."""
    import pytest

    import tools.bench as bench

    def must_not_run(*_args):
        raise AssertionError("nothing may run for a refused --runs")

    monkeypatch.setattr(bench, "write_scaled_graphs", must_not_run)
    monkeypatch.setattr(bench, "run_once", must_not_run)
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--runs", "0"])
    assert exit_info.value.code == 2
    assert "--runs must be at least 1" in capsys.readouterr().err
