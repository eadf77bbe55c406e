"""The stack view of AnalyzeStack: resources by type, and references between them
(propertyDependencies first, then ids, names and ARNs)."""

from __future__ import annotations

from typing import Any, Dict, List

from pack_values import UNKNOWN, get, items, known

# ---------------------------------------------------------------------------------------------
# Stack view
# ---------------------------------------------------------------------------------------------

GLOBAL_TYPE_PREFIXES = ("aws:iam/", "aws:organizations/", "aws:cloudfront/", "aws:route53/",
                        "aws:globalaccelerator/", "aws:budgets/", "aws:ce/", "aws:shield/")


IDENTIFYING_PROPERTIES = ("id", "arn", "bucket", "name", "identifier", "keyId", "clusterName")


def is_regional_aws(resource_type: str) -> bool:
    return resource_type.startswith("aws:") and not resource_type.startswith(GLOBAL_TYPE_PREFIXES)


class Stack:
    """Indexes AnalyzeStack resources by type and resolves references between them."""

    def __init__(self, resources: List[Any], ctx: Any):
        self.resources = list(resources)
        self.ctx = ctx
        self.by_type: Dict[str, List[Any]] = {}
        for r in self.resources:
            self.by_type.setdefault(r.resource_type, []).append(r)
        # Memos keyed by id(); each keeps its resource, so no id is reused while it is cached.
        self._identifiers: Dict[int, tuple] = {}
        self._references: Dict[tuple, tuple] = {}
        self._referrers: Dict[tuple, tuple] = {}

    def of(self, *types: str) -> List[Any]:
        out: List[Any] = []
        for t in types:
            out.extend(self.by_type.get(t, []))
        return out

    def identifiers(self, res: Any) -> frozenset:
        """The known ids, names and ARNs `res` can be referred to by. Read once per resource:
        every reference check against it reuses them (a stack-wide check would otherwise read
        them again for every candidate referrer)."""
        memo = self._identifiers.get(id(res))
        if memo is None:
            memo = self._identifiers[id(res)] = (res, frozenset(
                v for v in (get(res.props, k) for k in IDENTIFYING_PROPERTIES) if isinstance(v, str) and v))
        return memo[1]

    def refers_to(self, res: Any, prop: str, target: Any) -> bool:
        """Does `res.props[prop]` point at `target`? Checks propertyDependencies, then values."""
        for dep in (res.property_dependencies or {}).get(prop, []) or []:
            if getattr(dep, "urn", None) == target.urn:
                return True
        value = self._value(res, prop)
        if isinstance(value, str) and value:
            ids = self.identifiers(target)
            if value in ids:
                return True
            # `arn:aws:s3:::bucket-name` style references
            for ident in ids:
                if value.endswith(":" + ident) or value.endswith("/" + ident):
                    return True
        return False

    def _value(self, res: Any, prop: str) -> Any:
        memo = self._references.get((id(res), prop))
        if memo is None:
            memo = self._references[(id(res), prop)] = (res, get(res.props, prop))
        return memo[1]

    def referencing(self, target: Any, prop: str, *types: str) -> List[Any]:
        """The resources of `types`, in stack order, for which refers_to(r, prop, target) holds.
        Looked up in an index of their references built once per (prop, types): a stack-wide
        check asks this for every target, which a scan of every candidate makes quadratic."""
        memo = self._referrers.get((prop, types))
        if memo is None:
            memo = self._referrers[(prop, types)] = self._index_referrers(prop, types)
        candidates, positions_by_key = memo
        found: set = set()
        for key in (("urn", target.urn), *self.identifiers(target)):
            found.update(positions_by_key.get(key, ()))
        return [candidates[i] for i in sorted(found)]

    def _index_referrers(self, prop: str, types: tuple) -> tuple:
        """(candidates, {key: positions}): a key is ("urn", urn) for each propertyDependency and,
        for a string value, the value and every part of it after a ':' or '/' -- exactly the
        identifiers refers_to would match it against."""
        candidates = self.of(*types)
        positions_by_key: Dict[Any, set] = {}
        for position, res in enumerate(candidates):
            keys = {("urn", getattr(dep, "urn", None))
                    for dep in (res.property_dependencies or {}).get(prop, []) or []}
            value = self._value(res, prop)
            if isinstance(value, str) and value:
                keys.add(value)
                keys.update(value[i + 1:] for i, char in enumerate(value) if char in ":/")
            for key in keys:
                positions_by_key.setdefault(key, set()).add(position)
        return candidates, positions_by_key

    def region_of(self, res: Any) -> Any:
        region = get(res.props, "region")
        if isinstance(region, str) and region:
            return region
        if region is UNKNOWN:
            return UNKNOWN
        provider = getattr(res, "provider", None)
        if provider is not None:
            pregion = get(provider.props, "region")
            if pregion is not None:
                return pregion
        return None


def region_of_resource(args: Any) -> Any:
    region = get(args.props, "region")
    if region is not None:
        return region
    if args.provider is not None:
        return get(args.provider.props, "region")
    return None


def label(res: Any) -> str:
    """How messages name a resource: its logical name (the URN travels with the violation)."""
    return f"'{res.name}'"


def parameter_groups_used(stack: Any, user: Any, group_type: str) -> tuple:
    """(the name `user` sets in parameterGroupName, the groups of `group_type` in this stack it
    refers to). An unknown name raises NotKnownYet: the user is skipped, not judged."""
    name = known(get(user.props, "parameterGroupName"))
    return name, [g for g in stack.of(group_type) if stack.refers_to(user, "parameterGroupName", g)]


def parameters(group: Any) -> Dict[Any, Any]:
    """A parameter group's parameters as {name: value} (an unknown entry raises NotKnownYet)."""
    return {get(p, "name"): get(p, "value") for p in items(get(group.props, "parameters"))}
