//! The contact center's side of the consultation journeys: demo customers on the hub, a
//! customer call delivered to an agent and answered, and the app's way from the call to an
//! IM consultation.

use anyhow::bail;
use huddle_hub::http_client::HttpClient;
use huddle_hub::simulate;
use huddle_protocol::Media;

use super::App;

/// Seeds the demo customers through the integration API of the hub at `address`.
pub async fn seed_contacts(address: &str, token: &str) -> anyhow::Result<()> {
    let http = HttpClient::new(&format!("http://{address}"))?;
    simulate::seed_contacts(&http, token).await?;
    Ok(())
}

/// Delivers a customer call to `agent`, answered (as the CTI adapter reports once the agent
/// picks up); returns its id and the contact's name.
pub async fn call(address: &str, token: &str, agent: &str) -> anyhow::Result<(String, String)> {
    let http = HttpClient::new(&format!("http://{address}"))?;
    let delivered = simulate::deliver(&http, token, Media::Voice, agent, Some("c-1001")).await?;
    let path = format!("/integration/v1/interactions/{}", delivered.id);
    let (status, answer) = http
        .json(
            "PATCH",
            &path,
            token,
            &serde_json::json!({ "state": "active" }),
        )
        .await?;
    if status != 200 {
        bail!("the call could not be answered: {status} {answer}");
    }
    Ok((
        delivered.id,
        delivered.contact_name.unwrap_or(delivered.contact_id),
    ))
}

/// From the selected interaction's Start Consultation, picks `name` in the Team
/// Communicator and starts an IM consultation; returns with its window current, Not
/// Connected, and its label.
pub async fn consult(app: &App, name: &str) -> anyhow::Result<String> {
    app.click("start-consultation").await?;
    // The search may still hold what was looked for before (a colleague's presence).
    app.fill("tc-search", name).await?;
    app.eval_when(
        name,
        "return document.querySelectorAll('[data-testid=tc-entry]').length;",
        vec![],
        |n| n == 1,
    )
    .await?;
    if let Err(e) = app.click("tc-entry").await {
        let shown = app.eval("return document.body.innerText;", vec![]).await?;
        bail!(
            "cannot pick {name} ({e:#}); the window shows:\n{}",
            shown.as_str().unwrap_or_default()
        );
    }
    let action = app
        .text_when("tc-action-consult", |t| !t.is_empty())
        .await?;
    if action.trim() != "Start Instant Message Consultation" {
        bail!("the action menu offers {action:?}");
    }
    app.click("tc-action-consult").await?;
    let label = app.switch_to_im().await?;
    app.text_when("im-status", |t| t.contains("Not Connected"))
        .await?;
    Ok(label)
}
