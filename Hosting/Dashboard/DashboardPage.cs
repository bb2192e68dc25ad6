namespace Catbird.Hosting.Dashboard;

/// <summary>The dashboard's single page: self-contained HTML and script, no external assets.</summary>
internal static class DashboardPage
{
    public const string Html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Catbird dashboard</title>
        <style>
          body { font: 14px system-ui, sans-serif; margin: 0; color: #1d2430; background: #f6f7f9; }
          header { background: #1d2430; color: #fff; padding: 12px 20px; font-size: 18px; }
          main { display: grid; grid-template-columns: minmax(640px, 3fr) 2fr; gap: 16px; padding: 16px; }
          table { border-collapse: collapse; width: 100%; background: #fff; }
          th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
          tr.selected { background: #eef4ff; } tr { cursor: pointer; }
          .Healthy { color: #1a7f37; font-weight: 600; } .Degraded { color: #9a6700; font-weight: 600; } .Unhealthy { color: #cf222e; font-weight: 600; }
          pre { background: #0d1117; color: #d0d7de; padding: 10px; height: 60vh; overflow: auto; margin: 0; font-size: 12px; white-space: pre-wrap; }
          .err { color: #ff7b72; } h2 { font-size: 15px; margin: 0 0 8px; } small { color: #57606a; }
        </style>
        </head>
        <body>
        <header>Catbird &middot; resources</header>
        <main>
          <section>
            <table>
              <thead><tr><th>Name</th><th>Type</th><th>State</th><th>Health</th><th>Endpoints</th><th>Restarts</th></tr></thead>
              <tbody id="resources"></tbody>
            </table>
            <h2 style="margin-top:16px">Telemetry received (OTLP)</h2>
            <table><thead><tr><th>Service</th><th>Spans</th><th>Metrics</th><th>Logs</th><th>Recent spans</th></tr></thead><tbody id="telemetry"></tbody></table>
          </section>
          <section>
            <h2>Console: <span id="selected">(select a resource)</span></h2>
            <pre id="log"></pre>
          </section>
        </main>
        <script>
        let selected = null, after = 0;
        const text = s => document.createTextNode(s ?? "");
        function cell(row, value) { const td = row.insertCell(); td.appendChild(typeof value === "string" ? text(value) : value); return td; }
        async function refresh() {
          try {
            const resources = await (await fetch("/api/resources")).json();
            const body = document.getElementById("resources"); body.replaceChildren();
            for (const r of resources) {
              const row = body.insertRow(); if (r.name === selected) row.className = "selected";
              row.onclick = () => { selected = r.name; after = 0; document.getElementById("log").replaceChildren(); document.getElementById("selected").textContent = r.name; refresh(); };
              cell(row, r.name); cell(row, r.type); cell(row, r.state);
              const health = cell(row, r.health ?? "…"); if (r.health) health.className = r.health; if (r.healthDetail) health.title = r.healthDetail;
              const links = document.createElement("span");
              for (const e of r.endpoints) { const a = document.createElement("a"); a.href = e.url; a.textContent = e.url; a.target = "_blank"; links.append(a, document.createElement("br")); }
              cell(row, links); cell(row, String(r.restarts));
            }
            const telemetry = await (await fetch("/api/telemetry")).json();
            const tbody = document.getElementById("telemetry"); tbody.replaceChildren();
            for (const t of telemetry) {
              const row = tbody.insertRow();
              cell(row, t.service); cell(row, String(t.spans)); cell(row, String(t.metrics)); cell(row, String(t.logRecords));
              cell(row, t.recentSpans.slice(-5).join(", "));
            }
            if (selected) {
              const page = await (await fetch(`/api/resources/${encodeURIComponent(selected)}/logs?after=${after}`)).json();
              const log = document.getElementById("log"); const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
              for (const line of page.lines) { const span = document.createElement("span"); if (line.isError) span.className = "err"; span.textContent = line.text + "\n"; log.appendChild(span); }
              after = page.next; if (atBottom) log.scrollTop = log.scrollHeight;
            }
          } catch (e) { document.getElementById("selected").textContent = "dashboard unreachable: " + e; }
        }
        refresh(); setInterval(refresh, 1000);
        </script>
        </body>
        </html>
        """;
}
