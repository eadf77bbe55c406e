"""The part of the SARIF 2.1.0 JSON schema the policy check emits, written from the OASIS schema
(oasis-tcs/sarif-spec, Schemata/sarif-schema-2.1.0.json, draft-04): the same object names,
property types, enums, minimums and required members, with additionalProperties false as there,
so a misspelt or misplaced member fails here as it fails there. Objects the check never emits
(codeFlows, fixes, artifacts, invocations, ...) are left out and so refused."""

from __future__ import annotations

def _ref(name: str) -> dict:
    return {"$ref": f"#/definitions/{name}"}


def _object(properties: dict, required: tuple = ()) -> dict:
    schema = {"type": "object", "additionalProperties": False,
              "properties": {**properties, "properties": _ref("propertyBag")}}
    if required:
        schema["required"] = list(required)
    return schema


LEVEL = {"enum": ["none", "note", "warning", "error"], "type": "string"}

SARIF_2_1_0_SUBSET = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"enum": ["2.1.0"], "type": "string"},
        "runs": {"type": ["array", "null"], "items": _ref("run")},
        "properties": _ref("propertyBag"),
    },
    "required": ["version", "runs"],
    "definitions": {
        "propertyBag": {"type": "object", "additionalProperties": True,
                        "properties": {"tags": {"type": "array", "uniqueItems": True,
                                                "items": {"type": "string"}}}},
        "message": dict(_object({"text": {"type": "string"}, "markdown": {"type": "string"},
                                 "id": {"type": "string"},
                                 "arguments": {"type": "array", "items": {"type": "string"}}}),
                        anyOf=[{"required": ["text"]}, {"required": ["id"]}]),
        "multiformatMessageString": _object({"text": {"type": "string"},
                                             "markdown": {"type": "string"}}, ("text",)),
        "run": _object({"tool": _ref("tool"),
                        "results": {"type": ["array", "null"], "items": _ref("result")}}, ("tool",)),
        "tool": _object({"driver": _ref("toolComponent")}, ("driver",)),
        "toolComponent": _object({
            "name": {"type": "string"}, "version": {"type": "string"},
            "semanticVersion": {"type": "string"},
            "informationUri": {"type": "string", "format": "uri"},
            "rules": {"type": "array", "uniqueItems": True, "items": _ref("reportingDescriptor")},
        }, ("name",)),
        "reportingDescriptor": _object({
            "id": {"type": "string"}, "name": {"type": "string"},
            "shortDescription": _ref("multiformatMessageString"),
            "fullDescription": _ref("multiformatMessageString"),
            "help": _ref("multiformatMessageString"),
            "helpUri": {"type": "string", "format": "uri"},
            "defaultConfiguration": _ref("reportingConfiguration"),
        }, ("id",)),
        "reportingConfiguration": _object({"enabled": {"type": "boolean"}, "level": LEVEL,
                                           "rank": {"type": "number", "minimum": -1, "maximum": 100}}),
        "result": _object({
            "ruleId": {"type": "string"}, "ruleIndex": {"type": "integer", "minimum": -1},
            "kind": {"enum": ["notApplicable", "pass", "fail", "review", "open", "informational"]},
            "level": LEVEL, "message": _ref("message"),
            "locations": {"type": "array", "items": _ref("location")},
            "relatedLocations": {"type": "array", "uniqueItems": True, "items": _ref("location")},
            "partialFingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
            "suppressions": {"type": "array", "uniqueItems": True, "items": _ref("suppression")},
        }, ("message",)),
        "suppression": _object({
            "kind": {"enum": ["inSource", "external"], "type": "string"},
            "status": {"enum": ["accepted", "underReview", "rejected"], "type": "string"},
            "justification": {"type": "string"}, "location": _ref("location"),
            "guid": {"type": "string"},
        }, ("kind",)),
        "location": _object({
            "id": {"type": "integer", "minimum": -1},
            "physicalLocation": _ref("physicalLocation"),
            "logicalLocations": {"type": "array", "items": _ref("logicalLocation")},
            "message": _ref("message"),
        }),
        "physicalLocation": dict(_object({"artifactLocation": _ref("artifactLocation"),
                                          "region": _ref("region")}),
                                 anyOf=[{"required": ["address"]}, {"required": ["artifactLocation"]}]),
        "artifactLocation": _object({"uri": {"type": "string", "format": "uri-reference"},
                                     "uriBaseId": {"type": "string"},
                                     "index": {"type": "integer", "minimum": -1}}),
        "region": _object({"startLine": {"type": "integer", "minimum": 1},
                           "startColumn": {"type": "integer", "minimum": 1},
                           "endLine": {"type": "integer", "minimum": 1},
                           "endColumn": {"type": "integer", "minimum": 1}}),
        "logicalLocation": _object({"name": {"type": "string"}, "index": {"type": "integer", "minimum": -1},
                                    "fullyQualifiedName": {"type": "string"},
                                    "decoratedName": {"type": "string"},
                                    "parentIndex": {"type": "integer", "minimum": -1},
                                    "kind": {"type": "string"}}),
    },
}
