"""Schemathesis hooks for the bounded API fuzz run (loaded through SCHEMATHESIS_HOOKS=tests.fuzz.hooks).

The run authenticates as one admin; requests that would end that admin's own session (deactivating or
re-passwording itself) are skipped, or every later request would only test the 401 path. (Logging out is
excluded on the command line: every one of its cases would end the session.)
"""

from __future__ import annotations

import os

import schemathesis
from schemathesis import Case, HookContext

FUZZ_OPERATOR_ID = int(os.environ.get("HELPLINE_FUZZ_OPERATOR_ID", "1"))


@schemathesis.hook
def filter_case(context: HookContext, case: Case) -> bool:
    path = case.operation.path
    if path == "/api/v1/operators/{operator_id}" and case.method.upper() in ("PATCH", "DELETE"):
        return str((case.path_parameters or {}).get("operator_id")) != str(FUZZ_OPERATOR_ID)
    return True
