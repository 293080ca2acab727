//! Vega-Lite v5 charts chosen from a result's shape: a time column and a measure make a line,
//! a category and a measure make a bar, a single value makes no chart. Data is always inline and
//! always the actual rows.

use serde_json::{Map, Value, json};

use crate::model::QueryData;
use crate::schema::ColumnKind;

fn is_numeric_column(data: &QueryData, i: usize) -> bool {
    let typed = ColumnKind::of(&data.columns[i].data_type).is_numeric();
    let values = data.rows.iter().map(|r| &r[i]).filter(|v| !v.is_null());
    typed
        || (data.rows.iter().any(|r| !r[i].is_null())
            && values
                .clone()
                .all(|v| v.is_number() || v.as_str().is_some_and(|s| s.parse::<f64>().is_ok())))
}

fn looks_temporal(data: &QueryData, i: usize) -> bool {
    let c = &data.columns[i];
    if ColumnKind::of(&c.data_type).is_temporal() {
        return true;
    }
    let sample: Vec<&str> = data
        .rows
        .iter()
        .filter_map(|r| r[i].as_str())
        .take(20)
        .collect();
    !sample.is_empty()
        && sample.iter().all(|s| {
            s.len() >= 7 && s.as_bytes()[4] == b'-' && s[..4].chars().all(|c| c.is_ascii_digit())
        })
}

/// The default chart for a result, or `None` when a chart would not help.
pub fn default_chart(data: &QueryData, title: &str) -> Option<String> {
    if data.columns.len() < 2 || data.rows.len() < 2 {
        return None;
    }
    let measure = (0..data.columns.len())
        .rev()
        .find(|&i| is_numeric_column(data, i))?;
    let dim = (0..data.columns.len()).find(|&i| i != measure)?;
    let temporal = looks_temporal(data, dim);
    let (dname, mname) = (&data.columns[dim].name, &data.columns[measure].name);
    let values: Vec<Value> = data
        .rows
        .iter()
        .map(|r| {
            let mut o = Map::new();
            o.insert(dname.clone(), r[dim].clone());
            let m = match &r[measure] {
                Value::String(s) => s.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
                v => v.clone(),
            };
            o.insert(mname.clone(), m);
            Value::Object(o)
        })
        .collect();
    let spec = if temporal {
        json!({
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "title": title,
            "data": {"values": values},
            "mark": {"type": "line", "point": true},
            "encoding": {
                "x": {"field": dname, "type": "temporal", "title": dname},
                "y": {"field": mname, "type": "quantitative", "title": mname}
            }
        })
    } else {
        json!({
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "title": title,
            "data": {"values": values},
            "mark": "bar",
            "encoding": {
                "x": {"field": dname, "type": "nominal", "title": dname, "sort": null},
                "y": {"field": mname, "type": "quantitative", "title": mname}
            }
        })
    };
    Some(spec.to_string())
}

/// A chart a model proposed, validated against a Vega-Lite v5 subset and rebuilt from scratch:
/// marks bar, line, area, point and arc; channels x, y, color, theta; every field one of the
/// result's columns; the data always the actual rows, never anything from the model's text.
/// `None` when the proposal does not fit (the shape-based default applies then).
pub fn validate(proposal: &Value, data: &QueryData) -> Option<String> {
    let obj = proposal.as_object()?;
    let mark = match obj.get("mark")? {
        Value::String(m) => m.as_str(),
        Value::Object(m) => m.get("type")?.as_str()?,
        _ => return None,
    };
    if !matches!(mark, "bar" | "line" | "area" | "point" | "arc") {
        return None;
    }
    let columns: Vec<&str> = data.columns.iter().map(|c| c.name.as_str()).collect();
    let mut encoding = Map::new();
    for (channel, enc) in obj.get("encoding")?.as_object()? {
        if !matches!(channel.as_str(), "x" | "y" | "color" | "theta") {
            return None;
        }
        let field = enc.get("field")?.as_str()?;
        if !columns.contains(&field) {
            return None;
        }
        let kind = enc.get("type").and_then(Value::as_str).unwrap_or("nominal");
        if !matches!(kind, "quantitative" | "nominal" | "ordinal" | "temporal") {
            return None;
        }
        let mut clean = Map::new();
        clean.insert("field".into(), json!(field));
        clean.insert("type".into(), json!(kind));
        if let Some(t) = enc.get("title").and_then(Value::as_str) {
            clean.insert(
                "title".into(),
                json!(t.chars().take(80).collect::<String>()),
            );
        }
        encoding.insert(channel.clone(), Value::Object(clean));
    }
    let required: &[&str] = if mark == "arc" {
        &["theta"]
    } else {
        &["x", "y"]
    };
    if required.iter().any(|c| !encoding.contains_key(*c)) {
        return None;
    }
    let values: Vec<Value> = data
        .rows
        .iter()
        .map(|r| {
            let mut o = Map::new();
            for (i, c) in data.columns.iter().enumerate() {
                let v = match &r[i] {
                    Value::String(s) if is_numeric_column(data, i) => {
                        s.parse::<f64>().map(Value::from).unwrap_or(Value::Null)
                    }
                    v => v.clone(),
                };
                o.insert(c.name.clone(), v);
            }
            Value::Object(o)
        })
        .collect();
    let mut spec = json!({
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": values},
        "mark": {"type": mark},
        "encoding": encoding,
    });
    if let Some(t) = obj.get("title").and_then(Value::as_str) {
        spec["title"] = json!(t.chars().take(120).collect::<String>());
    }
    Some(spec.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ColumnMeta;

    fn data(cols: &[(&str, &str)], rows: Vec<Vec<Value>>) -> QueryData {
        QueryData {
            columns: cols
                .iter()
                .map(|(n, t)| ColumnMeta {
                    name: n.to_string(),
                    data_type: t.to_string(),
                })
                .collect(),
            rows,
            truncated: false,
        }
    }

    #[test]
    fn shape_decides_the_mark() {
        let line = data(
            &[("month", "text"), ("total", "numeric")],
            vec![
                vec![json!("2026-01-01"), json!("10.5")],
                vec![json!("2026-02-01"), json!(3)],
            ],
        );
        let spec: Value = serde_json::from_str(&default_chart(&line, "t").unwrap()).unwrap();
        assert_eq!(spec["mark"]["type"], "line");
        assert_eq!(spec["data"]["values"][0]["total"], 10.5);
        let bar = data(
            &[("category", "text"), ("n", "int8")],
            vec![vec![json!("a"), json!(1)], vec![json!("b"), json!(2)]],
        );
        let spec: Value = serde_json::from_str(&default_chart(&bar, "t").unwrap()).unwrap();
        assert_eq!(spec["mark"], "bar");
        let single = data(&[("n", "int8")], vec![vec![json!(1)]]);
        assert!(default_chart(&single, "t").is_none());
    }

    #[test]
    fn a_proposal_is_rebuilt_from_the_rows_or_refused() {
        let d = data(
            &[("status", "text"), ("n", "numeric")],
            vec![
                vec![json!("paid"), json!("2.5")],
                vec![json!("open"), json!(1)],
            ],
        );
        let ok = json!({"mark": "arc", "encoding": {"theta": {"field": "n", "type": "quantitative"},
            "color": {"field": "status", "type": "nominal"}},
            "data": {"values": [{"status": "invented", "n": 999}]}, "transform": [{"calculate": "x"}]});
        let spec: Value = serde_json::from_str(&validate(&ok, &d).unwrap()).unwrap();
        assert_eq!(
            spec["data"]["values"][0],
            json!({"status": "paid", "n": 2.5})
        );
        assert!(spec.get("transform").is_none());
        for bad in [
            json!({"mark": "rect", "encoding": {"x": {"field": "n"}, "y": {"field": "n"}}}),
            json!({"mark": "bar", "encoding": {"x": {"field": "secret"}, "y": {"field": "n"}}}),
            json!({"mark": "bar", "encoding": {"x": {"field": "status"}}}),
            json!({"mark": "bar", "encoding": {"href": {"field": "status"}, "y": {"field": "n"}}}),
            json!("bar"),
        ] {
            assert!(validate(&bad, &d).is_none(), "{bad}");
        }
    }
}
