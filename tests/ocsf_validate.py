#!/usr/bin/env python3
"""Validate OCSF 1.1.0 records against the schema's own JSON, offline.

Usage:
    python3 tests/ocsf_validate.py [--schema PATH] [--all] [--quiet] FILE [FILE ...]

Each FILE holds OCSF records as JSON Lines (one object a line), as a JSON
array, or as one (possibly pretty-printed) JSON object. ``-`` reads standard
input; a name ending in ``.gz`` is read through gzip.

The schema is the OCSF server's ``/export/schema`` JSON for 1.1.0, kept at
``tests/data/ocsf/schema/ocsf-1.1.0.json.gz`` (see SOURCES.md there for where
it came from). Only the standard library is used.

What is checked, per record:
  * ``class_uid`` names a class of the schema; ``category_uid`` is that
    class's category; ``type_uid == class_uid * 100 + activity_id``;
    ``metadata.version`` is the schema's version (1.1.0).
  * every attribute the class marks ``required`` is present and not null;
    attributes that come from a profile are required only when the record
    lists that profile in ``metadata.profiles``. The same holds inside every
    object, recursively, and the schema's ``at_least_one``/``just_one``
    constraints are enforced.
  * attribute types: string, integer/long (no booleans, no floats), float,
    boolean, timestamp_t (integer milliseconds since the epoch), datetime_t
    (RFC 3339 string), ip_t, subnet_t, port_t range, json_t (anything),
    objects (recursively) and arrays (``is_array``).
  * enum attributes hold a defined id; when the caption sibling is present
    (``activity_name`` for ``activity_id``, ``severity`` for ``severity_id``,
    ``type_name`` for ``type_uid``, ``class_name`` for ``class_uid``,
    ``category_name`` for ``category_uid`` ...) it equals the id's caption,
    except for 99 (Other), whose sibling is source specific.
  * attributes the class or object does not define are errors, except the
    top-level ``unmapped`` (any object) and ``raw_data`` (string), and the
    content of attributes typed as the generic ``object``.

The run stops at the first invalid record (exit status 1) and prints the file,
the line the record starts on, its ``metadata.uid`` if any, and every problem
found in it. Warnings (an attribute of a profile that ``metadata.profiles``
does not list, a deprecated attribute) are printed but do not fail.
``--all`` goes on through every record and prints a summary;
the exit status is then 1 if any record was invalid. Exit status 2 means the
input or the schema could not be read.
"""

import argparse
import datetime
import gzip
import ipaddress
import json
import os
import re
import sys

DEFAULT_SCHEMA = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "data", "ocsf", "schema", "ocsf-1.1.0.json.gz"
)

# Top-level attributes accepted in every class even if the class omits them.
TOP_LEVEL_FREE = {"unmapped", "raw_data"}
OTHER_ID = "99"
# 13 digits: a millisecond timestamp from 2001-09-09 on. Anything below 1e11
# (before 1973-03-03 in ms) is almost surely seconds.
MIN_PLAUSIBLE_MS = 100_000_000_000

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$"
)
MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")


def open_text(path):
    if path == "-":
        return sys.stdin
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


class Schema:
    def __init__(self, path):
        with open_text(path) as f:
            data = json.load(f)
        self.version = data["version"]
        self.types = data["types"]
        self.objects = data["objects"]
        self.classes_by_uid = {}
        for cls in data["classes"].values():
            self.classes_by_uid[cls["uid"]] = cls
        # The Base Event (class 0, category 0 "Uncategorized") is a class
        # records may have: events no other class fits.
        # The export leaves the profiles' attributes out of the Base Event;
        # they are the same in every class (taken from API Activity's).
        if "base_event" in data:
            base = json.loads(json.dumps(data["base_event"]))
            donor = self.classes_by_uid.get(6003, {}).get("attributes", {})
            for name, attr in donor.items():
                if attr.get("profile") in base.get("profiles", []):
                    base["attributes"].setdefault(name, attr)
            self.classes_by_uid[0] = base

    def base_type(self, type_name):
        """string_t / integer_t / long_t / float_t / boolean_t / json_t / object_t."""
        seen = set()
        while type_name in self.types and "type" in self.types[type_name]:
            if type_name in seen:
                break
            seen.add(type_name)
            type_name = self.types[type_name]["type"]
        return type_name


class Checker:
    def __init__(self, schema):
        self.s = schema
        self.errors = []
        self.warnings = []

    def err(self, path, msg):
        self.errors.append(f"{path or '<record>'}: {msg}")

    def warn(self, path, msg):
        self.warnings.append(f"{path or '<record>'}: {msg}")

    # -- record ---------------------------------------------------------
    def check_record(self, rec):
        self.errors = []
        self.warnings = []
        if not isinstance(rec, dict):
            self.err("", f"record is {type(rec).__name__}, not a JSON object")
            return self.errors
        class_uid = rec.get("class_uid")
        if not isinstance(class_uid, int) or isinstance(class_uid, bool):
            self.err("class_uid", f"missing or not an integer: {class_uid!r}")
            return self.errors
        cls = self.s.classes_by_uid.get(class_uid)
        if cls is None:
            self.err("class_uid", f"{class_uid} is not a class of OCSF {self.s.version}")
            return self.errors

        meta = rec.get("metadata")
        profiles = set()
        if isinstance(meta, dict):
            if isinstance(meta.get("profiles"), list):
                profiles = {p for p in meta["profiles"] if isinstance(p, str)}
            version = meta.get("version")
            if version is not None and version != self.s.version:
                self.err("metadata.version", f"is {version!r}, the schema is {self.s.version}")

        # category and type_uid (class_name, category_name, type_name are the
        # caption siblings of class_uid, category_uid, type_uid: checked below)
        if "category_uid" in rec and rec["category_uid"] != cls["category_uid"]:
            self.err(
                "category_uid",
                f"is {rec['category_uid']!r}, class {class_uid} ({cls['caption']}) "
                f"belongs to category {cls['category_uid']} ({cls.get('category_name')})",
            )
        act = rec.get("activity_id")
        if isinstance(act, int) and not isinstance(act, bool) and "type_uid" in rec:
            want = class_uid * 100 + act
            if rec["type_uid"] != want:
                self.err("type_uid", f"is {rec['type_uid']!r}, expected class_uid*100+activity_id = {want}")

        if "unmapped" in rec and not isinstance(rec["unmapped"], dict):
            self.err("unmapped", f"must be an object, is {type(rec['unmapped']).__name__}")
        if "raw_data" in rec and not isinstance(rec["raw_data"], str):
            self.err("raw_data", f"must be a string, is {type(rec['raw_data']).__name__}")

        self.check_attrs(rec, cls["attributes"], cls.get("constraints"), "", profiles, top=True)
        return self.errors

    # -- attribute sets (class or object) -------------------------------
    def check_attrs(self, obj, attrs, constraints, path, profiles, top=False):
        for name, value in obj.items():
            p = f"{path}.{name}" if path else name
            if top and name in TOP_LEVEL_FREE:
                continue
            spec = attrs.get(name)
            if spec is None:
                self.err(p, "unknown attribute" + (" (put source fields without an OCSF attribute in 'unmapped')" if top else ""))
                continue
            if spec.get("profile") and spec["profile"] not in profiles and top:
                # allowed, but the record should declare the profile
                self.warn(p, f"attribute of profile '{spec['profile']}', which metadata.profiles does not list")
            if "@deprecated" in spec:
                self.warn(p, "deprecated: " + str(spec["@deprecated"].get("message", "")))
            self.check_value(value, spec, p, profiles)

        for name, spec in attrs.items():
            if spec.get("requirement") != "required":
                continue
            prof = spec.get("profile")
            if prof and prof not in profiles:
                continue
            if obj.get(name) is None:
                p = f"{path}.{name}" if path else name
                why = f" (profile '{prof}')" if prof else ""
                self.err(p, f"required attribute missing{why}")

        for kind, names in (constraints or {}).items():
            present = [n for n in names if self._has_path(obj, n)]
            where = path or "<record>"
            if kind == "at_least_one" and not present:
                self.err(where, f"needs at least one of {names}")
            elif kind == "just_one" and len(present) != 1:
                self.err(where, f"needs exactly one of {names}, has {present}")

        # enum captions of siblings
        for name, spec in attrs.items():
            sib = spec.get("sibling")
            if not sib or "enum" not in spec or name not in obj or sib not in obj:
                continue
            val = obj[name]
            if isinstance(val, bool) or not isinstance(val, int):
                continue
            key = str(val)
            if key == OTHER_ID or key not in spec["enum"]:
                continue
            caption = spec["enum"][key].get("caption")
            if obj[sib] != caption:
                p = f"{path}.{sib}" if path else sib
                self.err(p, f"is {obj[sib]!r}, the caption of {name}={val} is {caption!r}")

    @staticmethod
    def _has_path(obj, dotted):
        cur = obj
        for part in dotted.split("."):
            if not isinstance(cur, dict) or cur.get(part) is None:
                return False
            cur = cur[part]
        return True

    # -- values ---------------------------------------------------------
    def check_value(self, value, spec, path, profiles):
        if value is None:
            self.err(path, "is null (omit the attribute instead)")
            return
        if spec.get("is_array"):
            if not isinstance(value, list):
                self.err(path, f"must be an array, is {type(value).__name__}")
                return
            for i, item in enumerate(value):
                self.check_scalar_or_object(item, spec, f"{path}[{i}]", profiles)
        else:
            if isinstance(value, list):
                self.err(path, "is an array, the schema defines a single value")
                return
            self.check_scalar_or_object(value, spec, path, profiles)

    def check_scalar_or_object(self, value, spec, path, profiles):
        if value is None:
            self.err(path, "is null")
            return
        t = spec["type"]
        if t == "object_t":
            if not isinstance(value, dict):
                self.err(path, f"must be an object ({spec.get('object_type')}), is {type(value).__name__}")
                return
            otype = spec.get("object_type")
            if otype == "object":
                return  # generic object: any content
            odef = self.s.objects.get(otype)
            if odef is None:
                self.err(path, f"schema has no object type {otype!r}")
                return
            self.check_attrs(value, odef["attributes"], odef.get("constraints"), path, profiles)
            return
        base = self.s.base_type(t)
        tname = t
        if base == "json_t":
            return
        if base == "string_t":
            if not isinstance(value, str):
                self.err(path, f"must be a string ({tname}), is {type(value).__name__}: {value!r}")
                return
            self.check_string_type(value, t, path)
        elif base in ("integer_t", "long_t"):
            if isinstance(value, bool) or not isinstance(value, int):
                self.err(path, f"must be an integer ({tname}), is {type(value).__name__}: {value!r}")
                return
            if base == "integer_t" and not (-(2**31) <= value < 2**31):
                self.err(path, f"{value} does not fit a 32-bit integer ({tname})")
            if base == "long_t" and not (-(2**63) <= value < 2**63):
                self.err(path, f"{value} does not fit a 64-bit long ({tname})")
            rng = self.s.types.get(t, {}).get("range")
            if rng and not (rng[0] <= value <= rng[1]):
                self.err(path, f"{value} outside {tname} range {rng}")
            if t == "timestamp_t" and 0 < abs(value) < MIN_PLAUSIBLE_MS:
                self.warn(path, f"{value} looks like seconds; timestamp_t is milliseconds since the epoch")
        elif base == "float_t":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.err(path, f"must be a number ({tname}), is {type(value).__name__}: {value!r}")
                return
        elif base == "boolean_t":
            if not isinstance(value, bool):
                self.err(path, f"must be a boolean, is {type(value).__name__}: {value!r}")
                return
        else:
            self.err(path, f"schema type {t!r} (base {base!r}) is not known to this validator")
            return
        if "enum" in spec:
            if isinstance(value, bool):
                return
            if str(value) not in spec["enum"]:
                ids = ", ".join(sorted(spec["enum"], key=lambda k: (len(k), k)))
                self.err(path, f"{value!r} is not a defined value (defined: {ids})")

    def check_string_type(self, value, t, path):
        if t == "ip_t":
            try:
                ipaddress.ip_address(value.split("%", 1)[0])
            except ValueError:
                self.err(path, f"{value!r} is not an IP address")
        elif t == "subnet_t":
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                self.err(path, f"{value!r} is not a CIDR subnet")
        elif t == "mac_t":
            if not MAC.match(value):
                self.err(path, f"{value!r} is not a MAC address")
        elif t == "datetime_t":
            if not RFC3339.match(value):
                self.err(path, f"{value!r} is not an RFC 3339 date-time")
            else:
                try:
                    datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
                except ValueError:
                    pass  # Python < 3.11 is stricter on fractions; the regex already matched
        max_len = self.s.types.get(t, {}).get("max_len")
        if max_len and len(value) > max_len:
            self.err(path, f"longer than {max_len} characters ({t})")


def read_records(path):
    """Yield (line_number, record-or-exception) for a JSONL, JSON array or single-object file."""
    with open_text(path) as f:
        text = f.read()
    stripped = text.lstrip()
    if not stripped:
        return
    offset_line = text[: len(text) - len(stripped)].count("\n") + 1
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, list):
        # line of each element: best effort via raw_decode positions
        dec = json.JSONDecoder()
        pos = text.index("[") + 1
        for item in whole:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            line = text.count("\n", 0, pos) + 1
            try:
                _, end = dec.raw_decode(text, pos)
                pos = end
            except json.JSONDecodeError:
                pass
            yield line, item
        return
    if isinstance(whole, dict):
        yield offset_line, whole
        return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as e:
            yield n, e


def record_uid(rec):
    if isinstance(rec, dict) and isinstance(rec.get("metadata"), dict):
        return rec["metadata"].get("uid")
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description="Validate OCSF records against the OCSF 1.1.0 schema (offline).")
    ap.add_argument("files", nargs="+", help="JSONL, JSON array or single JSON object files; '-' for stdin")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA, help="OCSF /export/schema JSON (.json or .json.gz)")
    ap.add_argument("--all", action="store_true", help="check every record instead of stopping at the first invalid one")
    ap.add_argument("--quiet", action="store_true", help="print only invalid records and the summary")
    args = ap.parse_args(argv)

    try:
        schema = Schema(args.schema)
    except (OSError, ValueError, KeyError) as e:
        print(f"cannot read schema {args.schema}: {e}", file=sys.stderr)
        return 2
    checker = Checker(schema)
    total = bad = 0
    for path in args.files:
        try:
            records = list(read_records(path))
        except (OSError, UnicodeDecodeError) as e:
            print(f"{path}: cannot read: {e}", file=sys.stderr)
            return 2
        for line, rec in records:
            total += 1
            if isinstance(rec, Exception):
                errors = [f"<record>: not valid JSON: {rec}"]
            else:
                errors = checker.check_record(rec)
            if errors:
                bad += 1
                uid = record_uid(rec) if not isinstance(rec, Exception) else None
                cls = rec.get("class_uid") if isinstance(rec, dict) else None
                print(f"INVALID {path}:{line} metadata.uid={uid!r} class_uid={cls!r}")
                for e in errors:
                    print(f"  - {e}")
                if not args.all:
                    print(f"OCSF {schema.version}: stopped at first invalid record ({total} checked)")
                    return 1
            elif not args.quiet:
                print(f"ok {path}:{line} class_uid={rec.get('class_uid')} metadata.uid={record_uid(rec)!r}")
            if not args.quiet and not isinstance(rec, Exception):
                for w in checker.warnings:
                    print(f"  warning: {w}")
    print(f"OCSF {schema.version}: {total - bad} valid, {bad} invalid, {total} records")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
