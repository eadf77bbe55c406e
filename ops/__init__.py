"""printflow-infra operations tooling: audit a deployed stack and run the DR restore drill.

Usage and the drill runbook: README.md, "Ops tools". Contracts read: docs/contracts.md §2–§4.

    python -m ops audit --outputs prod-outputs.json [--json] [--rpo-target-seconds 300] [--now ISO]
    python -m ops drill preflight --outputs prod-outputs.json
    python -m ops drill verify --outputs dr-outputs.json --target-time ISO --started-at ISO
    python -m ops drill report [--dir drills] [--operator NAME]

Exit codes: 0 all checks passed, 1 a check failed, 2 bad input.
"""
