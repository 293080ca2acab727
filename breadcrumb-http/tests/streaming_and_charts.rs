//! Send Message as server-sent events, read by a real HTTP client (including one that hangs up
//! in the middle), and the charts of messages rendered to SVG and parsed as XML.

mod support;

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::App;
use support::scripted_llm::{Reply, ScriptedLlm, answer, tool};

/// Reads server-sent events until the stream ends: (event, data as JSON).
async fn read_events(resp: reqwest::Response) -> Vec<(String, Value)> {
    let mut body = resp.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut event, mut data) = (String::new(), String::new());
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            if !event.is_empty() {
                out.push((event, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
        }
    }
    out
}

async fn stream(app: &App, conversation: &str, text: &str) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/v1/conversations/{conversation}/messages")))
        .bearer_auth(&app.token)
        .header("Accept", "text/event-stream")
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn progress_streams_as_server_sent_events_and_ends_with_the_stored_message() {
    let llm = ScriptedLlm::start(vec![
        tool(
            "run_sql",
            r#"{"sql": "SELECT status, count(*) AS n FROM orders GROUP BY status"}"#,
        ),
        answer("Mostly delivered."),
    ])
    .await;
    let app = App::start(Some(&llm), |_| {}).await;
    let resp = stream(&app, "s1", "Orders by status?").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = read_events(resp).await;
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        names,
        ["thinking", "sql", "rows", "thinking", "chart", "message"],
        "{events:?}"
    );
    assert!(
        events[1].1["sql"]
            .as_str()
            .unwrap()
            .contains("GROUP BY status")
    );
    assert!(!events[2].1["rows"].as_array().unwrap().is_empty());
    let last = &events[5].1;
    assert_eq!(last["text"], "Mostly delivered.");
    let stored = app.messages("s1").await;
    assert_eq!(stored.last().unwrap()["message_id"], last["message_id"]);

    // Refusals are plain HTTP errors, not a stream.
    let resp = stream(&app, "s1", "").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The offline agent streams too.
    let offline = App::start(None, |_| {}).await;
    let events = read_events(stream(&offline, "s2", "How many orders are there?").await).await;
    assert_eq!(events.first().map(|e| e.0.as_str()), Some("sql"));
    assert_eq!(events.last().map(|e| e.0.as_str()), Some("message"));
}

#[tokio::test]
async fn a_client_that_hangs_up_cancels_the_work_and_keeps_what_finished() {
    let llm = ScriptedLlm::start(vec![
        tool("run_sql", r#"{"sql": "SELECT count(*) AS n FROM orders"}"#),
        // The second step is slow; the client is gone before it returns.
        Reply::After(
            Duration::from_millis(800),
            Box::new(tool("run_sql", r#"{"sql": "SELECT 1 AS again"}"#)),
        ),
        answer("never reached"),
    ])
    .await;
    let app = App::start(Some(&llm), |c| c.llm_timeout_secs = 5).await;
    let resp = stream(&app, "h1", "How many orders?").await;
    let mut body = resp.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("event: rows") {
        seen.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }
    drop(body); // hang up in the middle
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ms = app.messages("h1").await;
    assert_eq!(ms.len(), 2, "{ms:?}");
    assert_eq!(ms[0]["text"], "How many orders?");
    let reply = &ms[1];
    assert!(
        reply["text"].as_str().unwrap().contains("client went away"),
        "{reply}"
    );
    assert_eq!(
        reply["sql"], "SELECT count(*) AS n FROM orders",
        "what finished is kept"
    );
    assert_eq!(llm.requests().len(), 2, "no model call after the hang-up");
}

fn parse_svg(svg: &str) -> (usize, usize, usize) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let count = |n: &str| {
        doc.descendants()
            .filter(|d| d.tag_name().name() == n)
            .count()
    };
    (count("rect"), count("path"), count("circle"))
}

async fn svg(app: &App, conversation: &str, message: &Value) -> (StatusCode, String) {
    let resp = app
        .http
        .get(app.url(&format!(
            "/v1/conversations/{conversation}/messages/{}/chart.svg",
            message["message_id"].as_str().unwrap()
        )))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    if status == StatusCode::OK {
        assert_eq!(resp.headers()["content-type"], "image/svg+xml");
        let csp = resp.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'none'"),
            "no script in a chart: {csp}"
        );
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    }
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn charts_render_to_valid_svg_for_bar_line_and_pie() {
    let llm = ScriptedLlm::start(vec![
        tool("run_sql", r#"{"sql": "SELECT status, count(*) AS n FROM orders GROUP BY status"}"#),
        tool("propose_chart", r#"{"spec": {"mark": "arc", "encoding": {"theta": {"field": "n", "type": "quantitative"}, "color": {"field": "status", "type": "nominal"}}}}"#),
        answer("Here is the split."),
    ])
    .await;
    let app = App::start(Some(&llm), |_| {}).await;
    let (_, pie) = app.ask("v1", "Split by status as a pie").await;
    let (s, body) = svg(&app, "v1", &pie).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (_, paths, circles) = parse_svg(&body);
    let slices = pie["data"]["rows"].as_array().unwrap().len();
    assert!(paths + circles >= slices, "one slice per row: {body}");
    std::fs::write(std::env::temp_dir().join("breadcrumb-pie.svg"), &body).unwrap();

    let offline = App::start(None, |_| {}).await;
    let (_, bar) = offline.ask("v2", "Total amount by category").await;
    let spec: Value = serde_json::from_str(bar["visualization"].as_str().unwrap()).unwrap();
    assert_eq!(spec["mark"], "bar", "{bar}");
    let (s, body) = svg(&offline, "v2", &bar).await;
    assert_eq!(s, StatusCode::OK);
    let (rects, _, _) = parse_svg(&body);
    assert!(
        rects > bar["data"]["rows"].as_array().unwrap().len(),
        "a bar per row: {body}"
    );

    let (_, line) = offline.ask("v3", "Total amount by month").await;
    let spec: Value = serde_json::from_str(line["visualization"].as_str().unwrap()).unwrap();
    assert_eq!(spec["mark"]["type"], "line", "{line}");
    let (s, body) = svg(&offline, "v3", &line).await;
    assert_eq!(s, StatusCode::OK);
    let (_, paths, circles) = parse_svg(&body);
    assert!(
        paths >= 1 && circles >= line["data"]["rows"].as_array().unwrap().len(),
        "{body}"
    );

    // A message without a chart, and a message of another user, are 404.
    let user_message = &offline.messages("v3").await[0];
    assert_eq!(
        svg(&offline, "v3", user_message).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(svg(&app, "v3", &line).await.0, StatusCode::NOT_FOUND);
}
