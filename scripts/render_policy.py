"""Prints an IAM policy document of a template as plain IAM JSON, with the
template's intrinsic functions evaluated for the given parameters and
resource names: by default the function role's policy of template.yaml.
tests/template_policy.rs and tests/source_template.rs load them into moto
(IAM enforced) to show they grant exactly what they should.

usage: render_policy.py TEMPLATE ENV [RESOURCE PATH]
  ENV       '{"Parameters": {...}, "Resources": {"Queue": {"Ref": ..., "Arn": ...}, ...}, "Partition": "aws", "Region": "...", "AccountId": "..."}'
  RESOURCE  the logical id of the role (default FunctionRole)
  PATH      dotted path under its Properties (default Policies.0.PolicyDocument;
            e.g. AssumeRolePolicyDocument)
"""
import json
import sys

from cfnlint.decode import decode_str


def main():
    template_text = open(sys.argv[1]).read()
    env = json.loads(sys.argv[2])
    template, matches = decode_str(template_text)
    if matches:
        sys.exit(f"cannot read {sys.argv[1]}: {matches}")
    params = {k: v.get("Default", "") for k, v in template.get("Parameters", {}).items()}
    params.update(env.get("Parameters", {}))
    # A CommaDelimitedList parameter is a list to Ref, as in CloudFormation.
    for name, spec in template.get("Parameters", {}).items():
        if spec.get("Type") == "CommaDelimitedList" and isinstance(params.get(name), str):
            params[name] = params[name].split(",")
    pseudo = {
        "AWS::Partition": env.get("Partition", "aws"),
        "AWS::Region": env.get("Region", "us-east-1"),
        "AWS::AccountId": env.get("AccountId", "123456789012"),
        "AWS::NoValue": None,
    }
    resources = env.get("Resources", {})
    conditions = template.get("Conditions", {})
    cache = {}

    def ref(name):
        if name in pseudo:
            return pseudo[name]
        if name in params:
            return params[name]
        if name in resources:
            return resources[name]["Ref"]
        raise KeyError(f"Ref {name}")

    def condition(name):
        if name not in cache:
            cache[name] = ev(conditions[name])
        return cache[name]

    def sub(text, extra):
        out, i = "", 0
        while i < len(text):
            j = text.find("${", i)
            if j < 0:
                return out + text[i:]
            k = text.index("}", j)
            out += text[i:j]
            name = text[j + 2:k]
            if name in extra:
                out += str(extra[name])
            elif "." in name:
                res, attr = name.split(".", 1)
                out += resources[res][attr]
            else:
                out += str(ref(name))
            i = k + 1
        return out

    def ev(node):
        if isinstance(node, list):
            values = [ev(n) for n in node]
            return [v for v in values if v is not None]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return ref(arg)
            if key == "Fn::GetAtt":
                res, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return resources[res][attr]
            if key == "Fn::Sub":
                if isinstance(arg, list):
                    return sub(arg[0], {k: ev(v) for k, v in arg[1].items()})
                return sub(arg, {})
            if key == "Fn::If":
                return ev(arg[1]) if condition(arg[0]) else ev(arg[2])
            if key == "Fn::Join":
                return ev(arg[0]).join(str(x) for x in ev(arg[1]))
            if key == "Fn::Split":
                return ev(arg[1]).split(ev(arg[0]))
            if key == "Fn::Select":
                return ev(arg[1])[int(ev(arg[0]))]
            if key == "Fn::Equals":
                return str(ev(arg[0])) == str(ev(arg[1]))
            if key == "Fn::Not":
                return not ev(arg[0])
            if key == "Fn::And":
                return all(ev(a) for a in arg)
            if key == "Fn::Or":
                return any(ev(a) for a in arg)
            if key == "Condition":
                return condition(arg)
        return {k: v for k, v in ((k, ev(v)) for k, v in node.items()) if v is not None}

    resource = sys.argv[3] if len(sys.argv) > 3 else "FunctionRole"
    path = sys.argv[4] if len(sys.argv) > 4 else "Policies.0.PolicyDocument"
    node = template["Resources"][resource]["Properties"]
    for part in path.split("."):
        node = node[int(part)] if part.isdigit() else node[part]
    # Compact: moto mis-verifies signatures of form bodies with spaces.
    print(json.dumps(ev(node), separators=(",", ":")))


if __name__ == "__main__":
    main()
