"""Load only the pulumi-aws modules a program uses, for the offline runs.

Each pulumi-aws service package imports every module it has in its `__init__` (`from .vpc import
*`, 180 of them for `pulumi_aws.ec2`): some 500 modules and a second of CPU per process for a
program that uses 40 classes, paid again by the forked renderer. `install()`, called before
`pulumi_aws` is first imported, makes each service package resolve a name on first use instead:
from the module pulumi's codegen names after it (`Vpc`, `VpcArgs` -> `vpc.py`), else from the
package's `_enums` and `_inputs` (which `__init__` star-imports too), else by running the
package's own `__init__` after all. A name resolves to the object the eager package binds
(tests/program/test_aws_on_use.py compares every name of every service the program uses), so
what the program registers is unchanged. Only the mock runs install it; `pulumi up` never does.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import re
import sys
from types import ModuleType
from typing import Any, Callable, Optional

PACKAGE = "pulumi_aws"
STAR_IMPORTED = ("_enums", "_inputs")
"""Modules every service `__init__` star-imports besides those named after a resource or function."""
NOT_STAR_IMPORTED = ("outputs",)
"""The one module `__init__` binds as a submodule (`from . import outputs`), not by `*`."""

LOADED_IN_FULL: set[str] = set()
"""Service packages a name made run in full: none, for the program (a test holds it to that)."""

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def module_named_after(name: str) -> str:
    """The module pulumi's Python codegen puts a resource, its Args, a function or its result in:
    `BucketVersioningV2Args` -> `bucket_versioning_v2`, `get_vpc_output` and
    `AwaitableGetVpcResult` -> `get_vpc`."""
    base = re.sub(r"(Init)?Args(Dict)?$|_output$|^Awaitable", "", name)
    if base.startswith("Get") and base.endswith("Result"):
        base = base[: -len("Result")]
    return _WORD_BOUNDARY.sub("_", base).lower()


def _star_imported(package: ModuleType, name: str) -> Optional[ModuleType]:
    """The package's module `name`, its exports bound on the package as `from .name import *`
    binds them (over the submodule itself, for `get_vpc` the function in `get_vpc.py`)."""
    fullname = f"{package.__name__}.{name}"
    try:
        module = importlib.import_module(fullname)
    except ModuleNotFoundError as err:
        if err.name != fullname:
            raise
        return None
    if name not in NOT_STAR_IMPORTED:
        for export in getattr(module, "__all__", ()):
            setattr(package, export, getattr(module, export))
    return module


def _resolver(package: ModuleType, run_init: Callable[[ModuleType], None]) -> Callable[[str], Any]:
    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562 module __getattr__
        if not name.startswith("__") and package.__name__ not in LOADED_IN_FULL:
            for module_name in dict.fromkeys((module_named_after(name), *STAR_IMPORTED)):
                module = _star_imported(package, module_name)
                if module is not None and name in vars(package):
                    return vars(package)[name]
                if module is not None and module_name == name:
                    return module  # `from . import outputs` while outputs is loading: not bound yet
            LOADED_IN_FULL.add(package.__name__)
            run_init(package)  # a name the codegen placed elsewhere: the package in full
            if name in vars(package):
                return vars(package)[name]
        raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}")

    return __getattr__


class _OnFirstUse(importlib.abc.Loader):
    """Creates the service package empty, with a module `__getattr__` (PEP 562) that loads names."""

    def __init__(self, eager: importlib.abc.Loader):
        self.eager = eager

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__getattr__ = _resolver(module, self.eager.exec_module)  # type: ignore[attr-defined]


class _ServicePackageFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        parent, _, _service = fullname.rpartition(".")
        if parent != PACKAGE or path is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not spec.submodule_search_locations:
            return None  # a module of pulumi_aws itself (provider.py, ...): as usual
        spec.loader = _OnFirstUse(spec.loader)
        return spec


def install() -> None:
    """Service packages first imported from now on load on use. Had `pulumi_aws` been imported
    already, it bound its service packages eagerly then, and they stay so (correct, only slower)."""
    if not any(isinstance(f, _ServicePackageFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _ServicePackageFinder())
