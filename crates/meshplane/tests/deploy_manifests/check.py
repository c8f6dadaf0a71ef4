"""Helpers for crates/meshplane/tests/deploy_manifests.rs, run with the .venv Python.

  check.py yaml-json FILE...   every YAML document of each file, as JSON {file: [doc, ...]}
  check.py ecs FILE...         validate ECS task definitions against botocore's
                               RegisterTaskDefinition input shape; exit 1 with the report
"""
import json
import sys


def yaml_json(files):
    import yaml

    out = {}
    for f in files:
        with open(f, encoding="utf-8") as fh:
            try:
                out[f] = [d for d in yaml.safe_load_all(fh) if d is not None]
            except yaml.YAMLError as e:
                print(f"{f}: not valid YAML: {e}", file=sys.stderr)
                return 1
    json.dump(out, sys.stdout)
    return 0


def ecs(files):
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    shape = get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape
    failed = 0
    for f in files:
        with open(f, encoding="utf-8") as fh:
            try:
                params = json.load(fh)
            except json.JSONDecodeError as e:
                print(f"{f}: not valid JSON: {e}", file=sys.stderr)
                failed = 1
                continue
        report = ParamValidator().validate(params, shape)
        if report.has_errors():
            print(f"{f}: not a valid ECS RegisterTaskDefinition input:\n{report.generate_report()}", file=sys.stderr)
            failed = 1
    return failed


if __name__ == "__main__":
    cmd, files = sys.argv[1], sys.argv[2:]
    sys.exit({"yaml-json": yaml_json, "ecs": ecs}[cmd](files))
