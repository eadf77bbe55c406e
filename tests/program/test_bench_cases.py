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
