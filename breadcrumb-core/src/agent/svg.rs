//! A message's chart as SVG, drawn here in plain Rust so that mail, chat tools and pages without
//! JavaScript can show it. It reads the Vega-Lite subset the agent produces (bar, line, area,
//! point, arc; x, y, color, theta; inline data) and nothing else.

use serde_json::Value;

const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 70.0;
const PALETTE: [&str; 8] = [
    "#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.chars().take(24).collect(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn field<'a>(spec: &'a Value, channel: &str) -> Option<&'a str> {
    spec.pointer(&format!("/encoding/{channel}/field"))?
        .as_str()
}

/// Renders a chart spec; `None` when the spec is not one this renderer knows.
pub fn render(spec_json: &str) -> Option<String> {
    let spec: Value = serde_json::from_str(spec_json).ok()?;
    let mark = match spec.get("mark")? {
        Value::String(m) => m.clone(),
        Value::Object(o) => o.get("type")?.as_str()?.to_string(),
        _ => return None,
    };
    let rows = spec.pointer("/data/values")?.as_array()?;
    let title = spec.get("title").and_then(Value::as_str).unwrap_or("");
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"11\">\
         <rect width=\"{W}\" height=\"{H}\" fill=\"#ffffff\"/>\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        W / 2.0,
        esc(title)
    );
    let body = if mark == "arc" {
        pie(&spec, rows)?
    } else {
        cartesian(&spec, rows, &mark)?
    };
    out.push_str(&body);
    out.push_str("</svg>");
    Some(out)
}

fn pie(spec: &Value, rows: &[Value]) -> Option<String> {
    let theta = field(spec, "theta")?;
    let color = field(spec, "color");
    let values: Vec<(String, f64)> = rows
        .iter()
        .map(|r| {
            (
                color.map(|c| label(&r[c])).unwrap_or_default(),
                number(&r[theta]).unwrap_or(0.0).max(0.0),
            )
        })
        .collect();
    let total: f64 = values.iter().map(|v| v.1).sum();
    if total <= 0.0 {
        return None;
    }
    let (cx, cy, r) = (W / 2.0 - 80.0, H / 2.0 + 10.0, 140.0);
    let mut out = String::new();
    let mut angle = -std::f64::consts::FRAC_PI_2;
    for (i, (name, v)) in values.iter().enumerate() {
        let sweep = v / total * std::f64::consts::TAU;
        let (x1, y1) = (cx + r * angle.cos(), cy + r * angle.sin());
        let end = angle + sweep;
        let (x2, y2) = (cx + r * end.cos(), cy + r * end.sin());
        let large = if sweep > std::f64::consts::PI { 1 } else { 0 };
        let colour = PALETTE[i % PALETTE.len()];
        if (sweep - std::f64::consts::TAU).abs() < 1e-9 {
            out.push_str(&format!(
                "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r}\" fill=\"{colour}\"/>"
            ));
        } else {
            out.push_str(&format!(
                "<path d=\"M{cx:.1},{cy:.1} L{x1:.1},{y1:.1} A{r},{r} 0 {large} 1 {x2:.1},{y2:.1} Z\" fill=\"{colour}\" stroke=\"#fff\"><title>{}: {v}</title></path>",
                esc(name)
            ));
        }
        let ly = 60.0 + i as f64 * 18.0;
        out.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            W - 180.0,
            ly - 10.0,
            W - 162.0,
            ly,
            esc(name)
        ));
        angle = end;
    }
    Some(out)
}

fn cartesian(spec: &Value, rows: &[Value], mark: &str) -> Option<String> {
    let (xf, yf) = (field(spec, "x")?, field(spec, "y")?);
    let points: Vec<(String, f64)> = rows
        .iter()
        .filter_map(|r| Some((label(&r[xf]), number(&r[yf])?)))
        .take(200)
        .collect();
    if points.is_empty() {
        return None;
    }
    let max = points.iter().map(|p| p.1).fold(0.0_f64, f64::max);
    let min = points.iter().map(|p| p.1).fold(0.0_f64, f64::min);
    let span = if max - min > 0.0 { max - min } else { 1.0 };
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let y_of = |v: f64| TOP + ph - (v - min) / span * ph;
    let step = pw / points.len() as f64;
    let x_of = |i: usize| LEFT + step * (i as f64 + 0.5);
    let mut out = format!(
        "<line x1=\"{LEFT}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#888\"/><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{}\" stroke=\"#888\"/>",
        y_of(0.0),
        W - RIGHT,
        y_of(0.0),
        TOP + ph
    );
    for k in 0..=4 {
        let v = min + span * k as f64 / 4.0;
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 6.0,
            y_of(v) + 4.0,
            esc(&format_number(v))
        ));
    }
    let every = (points.len() / 12).max(1);
    for (i, (x, _)) in points.iter().enumerate() {
        if i % every == 0 {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"end\" transform=\"rotate(-35 {:.1} {})\">{}</text>",
                x_of(i),
                TOP + ph + 14.0,
                x_of(i),
                TOP + ph + 14.0,
                esc(x)
            ));
        }
    }
    match mark {
        "bar" => {
            for (i, (x, v)) in points.iter().enumerate() {
                let (top, bottom) = (y_of(v.max(0.0)), y_of(v.min(0.0)));
                out.push_str(&format!(
                    "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {v}</title></rect>",
                    x_of(i) - step * 0.4,
                    step * 0.8,
                    (bottom - top).max(0.5),
                    PALETTE[0],
                    esc(x)
                ));
            }
        }
        "line" | "area" => {
            let path: Vec<String> = points
                .iter()
                .enumerate()
                .map(|(i, (_, v))| format!("{:.1},{:.1}", x_of(i), y_of(*v)))
                .collect();
            if mark == "area" {
                out.push_str(&format!(
                    "<path d=\"M{:.1},{:.1} L{} L{:.1},{:.1} Z\" fill=\"{}\" fill-opacity=\"0.4\"/>",
                    x_of(0),
                    y_of(0.0),
                    path.join(" L"),
                    x_of(points.len() - 1),
                    y_of(0.0),
                    PALETTE[0]
                ));
            }
            out.push_str(&format!(
                "<path d=\"M{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
                path.join(" L"),
                PALETTE[0]
            ));
            for (i, (_, v)) in points.iter().enumerate() {
                out.push_str(&format!(
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{}\"/>",
                    x_of(i),
                    y_of(*v),
                    PALETTE[0]
                ));
            }
        }
        "point" => {
            for (i, (_, v)) in points.iter().enumerate() {
                out.push_str(&format!(
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{}\"/>",
                    x_of(i),
                    y_of(*v),
                    PALETTE[0]
                ));
            }
        }
        _ => return None,
    }
    out.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text><text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">{}</text>",
        LEFT + pw / 2.0,
        H - 8.0,
        esc(xf),
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        esc(yf)
    ));
    Some(out)
}

fn format_number(v: f64) -> String {
    if v.abs() >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v.abs() >= 1_000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
