//! A JSON Schema validator for the subset docs/report.schema.json uses: type, properties,
//! required, additionalProperties, items, enum, const, minimum, maximum, anyOf, $ref into
//! #/$defs, and the annotations $schema, title and description. Any other keyword is an error,
//! so the schema cannot rely on a rule this validator would silently skip.

use serde_json::Value;

const KEYWORDS: [&str; 15] = [
    "$schema",
    "title",
    "description",
    "$defs",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "anyOf",
    "$ref",
];

/// Every place `value` breaks `schema` (root schema `root` for $ref), as "path: what".
pub fn validate(root: &Value, schema: &Value, value: &Value, path: &str) -> Vec<String> {
    let mut errors = Vec::new();
    check(root, schema, value, path, &mut errors);
    errors
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_u64() || v.is_i64(),
        other => panic!("schema: unknown type {other:?}"),
    }
}

fn check(root: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let s = schema
        .as_object()
        .unwrap_or_else(|| panic!("schema at {path} is not an object: {schema}"));
    for k in s.keys() {
        assert!(
            KEYWORDS.contains(&k.as_str()),
            "schema keyword {k:?} at {path} is outside the validated subset"
        );
    }
    if let Some(r) = s.get("$ref") {
        let name = r
            .as_str()
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .unwrap_or_else(|| panic!("unsupported $ref {r}"));
        let target = &root["$defs"][name];
        assert!(!target.is_null(), "$ref to missing definition {name}");
        check(root, target, v, path, errors);
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_matches(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_matches(t.as_str().unwrap(), v)),
            _ => panic!("schema: bad type {t}"),
        };
        if !ok {
            errors.push(format!("{path}: {v} is not of type {t}"));
            return;
        }
    }
    if let Some(c) = s.get("const") {
        if v != c {
            errors.push(format!("{path}: {v} is not {c}"));
        }
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        if !options.contains(v) {
            errors.push(format!("{path}: {v} is not one of {options:?}"));
        }
    }
    if let (Some(min), Some(x)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if x < min {
            errors.push(format!("{path}: {x} is below the minimum {min}"));
        }
    }
    if let (Some(max), Some(x)) = (s.get("maximum").and_then(Value::as_f64), v.as_f64()) {
        if x > max {
            errors.push(format!("{path}: {x} is above the maximum {max}"));
        }
    }
    if let Some(Value::Array(options)) = s.get("anyOf") {
        let fits = options
            .iter()
            .any(|o| validate(root, o, v, path).is_empty());
        if !fits {
            let why: Vec<String> = options
                .iter()
                .flat_map(|o| validate(root, o, v, path))
                .collect();
            errors.push(format!(
                "{path}: matches no alternative ({})",
                why.join("; ")
            ));
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(req)) = s.get("required") {
            for k in req {
                let k = k.as_str().unwrap();
                if !obj.contains_key(k) {
                    errors.push(format!("{path}: required field {k:?} is missing"));
                }
            }
        }
        for (k, x) in obj {
            let sub = format!("{path}.{k}");
            match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                (Some(ps), _) => check(root, ps, x, &sub, errors),
                (None, Some(Value::Bool(false))) => {
                    errors.push(format!("{sub}: field not in the schema"))
                }
                (None, Some(extra @ Value::Object(_))) => check(root, extra, x, &sub, errors),
                (None, _) => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check(root, items, x, &format!("{path}[{i}]"), errors);
        }
    }
}
