//! The provider's HTML pages: the approval page, the citizen's access log and errors.
//! Plain HTML with a few lines of script to poll; every value is escaped.

use serde_json::Value;

use crate::provider::Approval;

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f6f8;color:#1c2733}
header{background:#0b3d91;color:#fff;padding:14px 24px;font-weight:600}
main{max-width:760px;margin:24px auto;background:#fff;border-radius:10px;padding:24px 28px;box-shadow:0 1px 4px #0002}
h1{font-size:1.35rem;margin-top:0}
.qr svg{width:220px;height:220px}
.row{display:flex;gap:28px;align-items:center;flex-wrap:wrap}
a.button{display:inline-block;background:#0b3d91;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none}
.muted{color:#5b6775;font-size:.9rem}
.status{margin-top:16px;font-weight:600}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e7ec;padding:6px 8px;text-align:left;font-size:.92rem}
code{font-size:.8rem;word-break:break-all}
"#;

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body>\
<header>Seoul citizen card · integrated login</header><main>{body}</main></body></html>",
        escape(title)
    )
}

/// The QR code of a wallet link, as SVG (error correction L: the link is short-lived and
/// shown on a screen; a higher level only makes the code denser and slower to render).
pub(crate) fn qr_svg(text: &str) -> String {
    qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L)
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(220, 220)
                .build()
        })
        .unwrap_or_default()
}

/// The approval page: who asks for what, the wallet request, and the polling script.
pub(crate) fn approval(approval: &Approval) -> String {
    let (title, asks) = match &approval.service {
        Some((name, org)) => {
            let items: String = approval
                .scopes
                .iter()
                .map(|(scope, text)| {
                    format!("<li data-scope=\"{}\">{}</li>", escape(scope), escape(text))
                })
                .collect();
            (
                format!("Sign in to {name}"),
                format!(
                    "<p><b id=\"service-name\">{}</b> <span class=\"muted\">({})</span> asks to sign you in with your citizen card and to learn:</p>\
<ul id=\"claims\">{items}<li>a pseudonymous identifier for this service only (your card number is not shared)</li></ul>",
                    escape(name),
                    escape(org.as_str())
                ),
            )
        }
        None => (
            "Your access log".to_owned(),
            "<p>See which services learned what about you, and when. Prove it is you with \
your citizen card: only your card number is read, to find your records.</p>"
                .to_owned(),
        ),
    };
    let id = escape(&approval.id);
    let link = escape(&approval.wallet_link);
    let body = format!(
        "<h1>{}</h1>{asks}\
<div class=\"row\"><div class=\"qr\"><img src=\"/login/{id}/qr.svg\" alt=\"QR code: scan it with your wallet\" width=\"220\" height=\"220\"></div>\
<div><p>Scan the code with your citizen-card wallet, or on this device:</p>\
<p><a class=\"button\" id=\"wallet-link\" href=\"{link}\" data-wallet-link=\"{link}\">Open my wallet</a></p>\
<p class=\"muted\">Command-line wallet: <code>simin wallet login '{link}'</code></p></div></div>\
<p class=\"status\" id=\"status\" data-request=\"{id}\">Waiting for your wallet…</p>\
<script>
(function(){{
  var id = document.getElementById('status').dataset.request;
  function poll(){{
    fetch('/login/' + id + '/status', {{credentials: 'same-origin'}})
      .then(function(r){{ return r.ok ? r.json() : {{status: 'gone'}}; }})
      .then(function(s){{
        if (s.status === 'approved' || s.status === 'refused') {{
          document.getElementById('status').textContent = s.status === 'approved' ? 'Approved. Continuing…' : 'Refused by the verifier.';
          window.location.href = '/login/' + id + '/continue';
        }} else if (s.status === 'gone' || s.status === 'taken') {{
          document.getElementById('status').textContent = 'This request expired or was completed elsewhere.';
        }} else {{ setTimeout(poll, 800); }}
      }})
      .catch(function(){{ setTimeout(poll, 2000); }});
  }}
  setTimeout(poll, 800);
}})();
</script>",
        escape(&title),
    );
    page(&title, &body)
}

/// The citizen's access log.
pub(crate) fn access_log(log: &Value) -> String {
    if let Some(reason) = log.get("refused").and_then(Value::as_str) {
        return page(
            "Access log",
            &format!(
                "<h1>Access log</h1><p id=\"refused\">Your card was refused: {}</p>",
                escape(reason)
            ),
        );
    }
    let entries = log
        .get("entries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let rows: String = entries
        .iter()
        .map(|e| {
            let text = |name: &str| escape(e.get(name).and_then(Value::as_str).unwrap_or(""));
            let claims = e
                .get("claims")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .filter_map(Value::as_str)
                        .map(escape)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            format!(
                "<tr class=\"entry\"><td>{}</td><td>{} <span class=\"muted\">{}</span></td><td>{}</td><td class=\"claims\">{}</td><td>{}</td></tr>",
                text("released_at"),
                text("service_name"),
                text("organization"),
                text("kind"),
                claims,
                e.get("height").and_then(Value::as_u64).unwrap_or(0),
            )
        })
        .collect();
    let body = format!(
        "<h1>Your access log</h1><p>{} release(s) of your data, newest first. Each is recorded on \
the city's chain with a pseudonym and a hash, never the values.</p>\
<table id=\"access-log\"><thead><tr><th>When</th><th>Service</th><th>What</th><th>Claims</th><th>Block</th></tr></thead><tbody>{rows}</tbody></table>",
        entries.len()
    );
    page("Your access log", &body)
}

/// A message page (errors, "done elsewhere").
pub(crate) fn message(title: &str, text: &str) -> String {
    page(
        title,
        &format!(
            "<h1>{}</h1><p id=\"message\">{}</p>",
            escape(title),
            escape(text)
        ),
    )
}

/// The provider's home page.
pub(crate) fn home(issuer: &str) -> String {
    let issuer = escape(issuer);
    page(
        "Seoul integrated login",
        &format!(
            "<h1>Seoul integrated login</h1>\
<p>City services sign citizens in here with the citizen card, through OpenID Connect. \
Each service sees only the claims it registered for and a pseudonym of its own.</p>\
<ul><li><a href=\"/access-log\">See your access log</a></li>\
<li>Discovery: <code>{issuer}/.well-known/openid-configuration</code></li></ul>"
        ),
    )
}
