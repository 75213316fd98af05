#!/usr/bin/env python3
"""tests/schema/validate_models.py - docs/hamux-model.schema.json under test (ctest schema.*).

With a standard validator (python3-jsonschema, Draft 2020-12; Debian package, installed by
scripts/setup.sh):
  1. the schema itself is a valid Draft 2020-12 schema;
  2. every model bundled with hamux (examples/, the fuzzer's seed corpus) validates;
  3. each malformed model below is rejected, and the validator's most relevant error is at
     the JSON pointer we expect (so a case is rejected for the reason it was written for).

usage: validate_models.py SOURCE_DIR      exit status 0 = all held, 1 = a check failed
"""
import copy
import glob
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("FAILED: python3-jsonschema is not installed (scripts/setup.sh installs it: "
          "apt-get install python3-jsonschema)")
    sys.exit(1)

SOURCE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pointer(path):
    return "/" + "/".join(str(p) for p in path) if path else ""


# (name, edit of readme.json, JSON pointer of the expected error)
def set_at(doc, path, value):
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def delete_at(doc, path):
    for key in path[:-1]:
        doc = doc[key]
    del doc[path[-1]]


MALFORMED = [
    ("format version 2", lambda m: set_at(m, ["hamux"], "2"), "/hamux"),
    ("format version as a number", lambda m: set_at(m, ["hamux"], 1), "/hamux"),
    ("no neurons", lambda m: delete_at(m, ["neurons"]), ""),
    ("empty neurons", lambda m: set_at(m, ["neurons"], {}), "/neurons"),
    ("unknown top-level key", lambda m: set_at(m, ["layers"], {}), ""),
    ("unknown dtype", lambda m: set_at(m, ["dtype"], "float16"), "/dtype"),
    ("negative seed", lambda m: set_at(m, ["seed"], -1), "/seed"),
    ("neuron without a lagrangian", lambda m: delete_at(m, ["neurons", "input", "lagrangian"]), "/neurons/input"),
    ("zero dimension", lambda m: set_at(m, ["neurons", "input", "shape"], [0]), "/neurons/input/shape/0"),
    ("shape as a number", lambda m: set_at(m, ["neurons", "input", "shape"], 7), "/neurons/input/shape"),
    ("unknown lagrangian", lambda m: set_at(m, ["neurons", "labels", "lagrangian"], "softmaks"),
     "/neurons/labels/lagrangian"),
    ("tau zero", lambda m: set_at(m, ["neurons", "input", "tau"], 0), "/neurons/input/tau"),
    ("unknown neuron key", lambda m: set_at(m, ["neurons", "input", "bais"], "b"), "/neurons/input"),
    ("param without init", lambda m: delete_at(m, ["params", "W1", "init"]), "/params/W1"),
    ("unknown synapse", lambda m: set_at(m, ["synapses", "dense1"], {"lineaer": {"W": "W1"}}), "/synapses/dense1"),
    ("connection without neurons", lambda m: delete_at(m, ["connections", 0, "neurons"]), "/connections/0"),
    ("connection with no neuron", lambda m: set_at(m, ["connections", 0, "neurons"], []), "/connections/0/neurons"),
    ("connections as an object", lambda m: set_at(m, ["connections"], {}), "/connections"),
    ("bad identifier", lambda m: set_at(m, ["neurons", "9 lives"], {"shape": [2], "lagrangian": "identity"}),
     "/neurons"),
]


def main():
    failures = []
    schema = load(os.path.join(SOURCE, "docs", "hamux-model.schema.json"))
    validator_class = jsonschema.validators.validator_for(schema)
    if validator_class is not jsonschema.Draft202012Validator:
        failures.append("the schema does not declare Draft 2020-12 (%s)" % schema.get("$schema"))
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as e:
        failures.append("the schema is not a valid schema: %s" % e.message)
    validator = validator_class(schema)

    bundled = sorted(glob.glob(os.path.join(SOURCE, "examples", "**", "*.json"), recursive=True) +
                     glob.glob(os.path.join(SOURCE, "tests", "fuzz", "corpus", "*.json")))
    # Training files (examples/training/*.train.json, docs/training.md) are not models.
    bundled = [p for p in bundled if not p.endswith(".train.json")]
    if len(bundled) < 6:
        failures.append("found only %d bundled models under %s" % (len(bundled), SOURCE))
    for path in bundled:
        errors = sorted(validator.iter_errors(load(path)), key=lambda e: list(e.absolute_path))
        for e in errors[:3]:
            failures.append("%s: %s: %s" % (os.path.relpath(path, SOURCE), pointer(e.absolute_path), e.message))
    print("%d bundled models validated" % len(bundled))

    base = load(os.path.join(SOURCE, "examples", "models", "readme.json"))
    for name, edit, where in MALFORMED:
        model = copy.deepcopy(base)
        edit(model)
        error = jsonschema.exceptions.best_match(validator.iter_errors(model))
        if error is None:
            failures.append("malformed model accepted: %s" % name)
        elif pointer(error.absolute_path) != where:
            failures.append("%s: rejected at '%s' (%s), expected at '%s'" %
                            (name, pointer(error.absolute_path), error.message, where))
    print("%d malformed models checked" % len(MALFORMED))

    for f in failures:
        print("FAILED: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
