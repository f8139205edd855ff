"""Self-contained HTML reports (no CDN, no tile server): inline SVG map, charts, sortable tables.

Every text from data (site ids, place names, notes) is escaped; data for the map's click
details travels as JSON inside a ``<script type="application/json">`` block with ``<``
escaped, and is shown with ``textContent``, never as HTML.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import pandas as pd
import shapely

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.2em;color:#222}h1{font-size:1.3em}
h2{font-size:1.1em;margin-top:1.4em}.note{background:#fff4d6;border:1px solid #e0c060;
padding:.5em;font-size:.9em}#map{width:100%;height:620px;border:1px solid #999;
background:#f4f7fb;cursor:grab}#layers label{margin-right:1em;font-size:.9em}
#details{font-family:monospace;font-size:.85em;white-space:pre-wrap;background:#f4f4f4;
padding:.5em;min-height:2em}table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee;cursor:pointer}
td:first-child,th:first-child{text-align:left}.wide{overflow-x:auto}img.chart{max-width:48%;margin:.5em}
"""

SCRIPT = """
(function(){
const svg=document.getElementById('map');
if(svg){
 let vb=svg.viewBox.baseVal;let drag=null;
 svg.addEventListener('wheel',e=>{e.preventDefault();const r=svg.getBoundingClientRect();
  const f=e.deltaY<0?0.8:1.25;const mx=vb.x+(e.clientX-r.left)/r.width*vb.width;
  const my=vb.y+(e.clientY-r.top)/r.height*vb.height;vb.x=mx-(mx-vb.x)*f;vb.y=my-(my-vb.y)*f;
  vb.width*=f;vb.height*=f;},{passive:false});
 svg.addEventListener('mousedown',e=>{drag=[e.clientX,e.clientY];});
 window.addEventListener('mouseup',()=>{drag=null;});
 window.addEventListener('mousemove',e=>{if(!drag)return;const r=svg.getBoundingClientRect();
  vb.x-=(e.clientX-drag[0])/r.width*vb.width;vb.y-=(e.clientY-drag[1])/r.height*vb.height;
  drag=[e.clientX,e.clientY];});
 const data=JSON.parse(document.getElementById('site-data').textContent);
 svg.addEventListener('click',e=>{const id=e.target.getAttribute('data-site');if(id===null)return;
  const d=data[id];const out=document.getElementById('details');
  out.textContent=Object.entries(d).map(([k,v])=>k+': '+v).join('\\n');});
 document.querySelectorAll('#layers input').forEach(box=>box.addEventListener('change',()=>{
  document.getElementById(box.value).style.display=box.checked?'':'none';}));
}
document.querySelectorAll('table.sortable th').forEach((th,i)=>th.addEventListener('click',()=>{
 const body=th.closest('table').tBodies[0];const rows=[...body.rows];const asc=th.dataset.asc!=='1';
 th.dataset.asc=asc?'1':'0';rows.sort((a,b)=>{const x=a.cells[i].textContent,y=b.cells[i].textContent;
  const nx=parseFloat(a.cells[i].dataset.v??x),ny=parseFloat(b.cells[i].dataset.v??y);const c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);
  return asc?c:-c;});rows.forEach(r=>body.appendChild(r));}));
})();
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def table_html(frame: pd.DataFrame, *, digits: int = 3) -> str:
    """A sortable HTML table with every cell escaped."""
    if frame is None or frame.empty:
        return "<p>(none)</p>"

    def cell(v):
        if isinstance(v, float):
            if pd.isna(v):
                return "<td></td>"
            # large values (euros, minutes) in full with separators, not as 6e+07
            text = f"{v:,.0f}" if abs(v) >= 10 ** digits else f"{v:.{digits}g}"
            return f'<td data-v="{float(v)!r}">{_e(text)}</td>'
        return f"<td>{_e(v)}</td>"

    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return (f'<div class="wide"><table class="sortable"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")


def _img(path: Path) -> str:
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img class="chart" alt="{_e(path.stem)}" src="data:image/png;base64,{data}">'


def _path_d(geometry, flip) -> str:
    parts = []
    for geom in shapely.get_parts(geometry):
        if geom.geom_type == "Polygon":
            rings = [geom.exterior, *geom.interiors]
        elif geom.geom_type in ("LineString", "LinearRing"):
            rings = [geom]
        else:
            continue
        for ring in rings:
            coords = [flip(x, y) for x, y in ring.coords]
            if len(coords) < 2:
                continue
            parts.append("M" + "L".join(f"{x:.0f},{y:.0f}" for x, y in coords))
    return "".join(parts)


def map_svg(run) -> tuple[str, dict]:
    """The plan as an SVG (projected CRS) and the per-site details for clicks."""
    graph = run.prepared.graph
    crs = graph.graph["crs"]
    xs = [d["x"] for _, d in graph.nodes(data=True)]
    ys = [d["y"] for _, d in graph.nodes(data=True)]
    minx, maxx, miny, maxy = min(xs), max(xs), min(ys), max(ys)
    flip = lambda x, y: (x - minx, maxy - y)  # noqa: E731
    layers: dict[str, list[str]] = {"context": [], "roads": [], "routes-before": [],
                                    "routes-after": [], "obstacles": [], "sensors": []}
    inputs = run.prepared.inputs
    if inputs is not None:
        frame = shapely.box(minx, miny, maxx, maxy).buffer(50_000)
        for geom in inputs.countries.to_crs(crs).geometry:
            d = _path_d(shapely.intersection(geom.boundary, frame), flip)
            layers["context"].append(f'<path d="{d}" fill="none" stroke="#666" stroke-width="900"/>')
        for layer, color in ((inputs.water, "#a6cee3"), (inputs.rivers, "#1f78b4")):
            if len(layer):
                for geom in layer.to_crs(crs).geometry:
                    fill = color if geom.geom_type.endswith("Polygon") else "none"
                    d = _path_d(shapely.intersection(geom, frame), flip)
                    layers["context"].append(f'<path d="{d}" fill="{fill}" stroke="{color}" '
                                             'stroke-width="700"/>')
    seen = set()
    for u, v, d in graph.edges(data=True):
        if d["kind"] in ("road", "bridge") and (v, u) not in seen:
            seen.add((u, v))
            color = "#d62728" if d["kind"] == "bridge" else "#a0522d"
            layers["roads"].append(f'<path d="{_path_d(d["geometry"], flip)}" stroke="{color}" '
                                   'stroke-width="800" fill="none"/>')
    for axis_id, routes in run.plan.routes.items():
        for when, color, dash in (("before", "#ff7f0e", ' stroke-dasharray="3000,2000"'),
                                  ("after", "#d62728", "")):
            nodes = routes.get(when)
            if nodes:
                pts = "L".join("{:.0f},{:.0f}".format(*flip(graph.nodes[n]["x"],
                                                            graph.nodes[n]["y"])) for n in nodes)
                layers[f"routes-{when}"].append(
                    f'<path d="M{pts}" stroke="{color}" stroke-width="1800" fill="none"{dash}>'
                    f"<title>{_e(axis_id)} ({when})</title></path>")
    details: dict[str, dict] = {}
    sites = run.prepared.sites.to_crs(crs).set_index("site_id").geometry
    for layer, table, color in (("obstacles", run.plan.obstacles, "#2ca02c"),
                                ("sensors", run.plan.sensors, "#1f77b4")):
        for row in table.to_dict("records"):
            site = row["site_id"]
            x, y = flip(sites[site].x, sites[site].y)
            key = str(len(details))
            details[key] = {k: (f"{v:.6g}" if isinstance(v, float) else str(v))
                            for k, v in row.items()}
            layers[layer].append(
                f'<circle cx="{x:.0f}" cy="{y:.0f}" r="3500" fill="{color}" stroke="#000" '
                f'stroke-width="500" data-site="{key}"><title>{_e(site)}: {_e(row["type"])}'
                "</title></circle>")
    width, height = maxx - minx, maxy - miny
    groups = "".join(f'<g id="{name}">{"".join(items)}</g>' for name, items in layers.items())
    svg = (f'<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} '
           f'{height:.0f}" preserveAspectRatio="xMidYMid meet">{groups}</svg>')
    return svg, details


def _json_block(data: dict) -> str:
    text = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script type="application/json" id="site-data">{text}</script>'


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}"
            f"<script>{SCRIPT}</script></body></html>")


def run_report(run, folder: Path, *, note: str) -> str:
    """The HTML page of one run."""
    plan, report = run.plan, run.plan.report
    parts = [f"<h1>{_e(run.prepared.source)}: placement plan</h1>"]
    if note:
        parts.append(f'<p class="note">{_e(note)}</p>')
    parts.append(f"<p>Status <b>{_e(report.status)}</b> ({_e(report.termination)}), mode "
                 f"{_e(report.mode)}, solver {_e(report.solver_text())}; objective "
                 f"{_e(f'{report.objective:.6g}' if report.objective is not None else '-')}, "
                 f"bound {_e(report.bound)}, gap {_e(report.gap)}; spend "
                 f"{plan.spend / 1e6:,.2f} M EUR.</p>")
    if run.prepared.graph is not None and run.prepared.sites is not None:
        svg, details = map_svg(run)
        boxes = "".join(f'<label><input type="checkbox" value="{name}" checked> {name}</label>'
                        for name in ("context", "roads", "routes-before", "routes-after",
                                     "obstacles", "sensors"))
        parts += ["<h2>Map</h2>", f'<div id="layers">{boxes}</div>', svg,
                  "<p>Scroll to zoom, drag to pan, click a site for its details.</p>",
                  '<div id="details"></div>', _json_block(details)]
    if not plan.schedule.empty:
        parts += ["<h2>Build schedule</h2>", table_html(plan.yearly),
                  table_html(plan.schedule)]
    parts += ["<h2>Threat axes</h2>", table_html(plan.axes),
              "<h2>Budgets</h2>", table_html(plan.budgets),
              "<h2>Obstacles</h2>", table_html(plan.obstacles),
              "<h2>Sensors</h2>", table_html(plan.sensors)]
    return _page(f"{run.prepared.source} plan", "".join(parts))


def comparison_report(comparison, folder: Path, *, note: str) -> str:
    """The HTML page of a comparison (charts embedded as PNG data)."""
    parts = ["<h1>Scenario comparison</h1>"]
    if note:
        parts.append(f'<p class="note">{_e(note)}</p>')
    parts += ["<h2>Charts</h2>"] + [_img(folder / f"{n}.png") for n in ("pareto", "spend",
                                                                         "marginal")]
    parts += ["<h2>Per scenario and holder</h2>", table_html(comparison.rows),
              "<h2>Joint vs national</h2>", table_html(comparison.joint_vs_national),
              "<h2>Pareto curve</h2>", table_html(comparison.pareto)]
    return _page("Scenario comparison", "".join(parts))


def share_report(result, folder: Path, *, note: str) -> str:
    """The HTML page of a burden-sharing analysis."""
    parts = ["<h1>Burden sharing of the joint plan</h1>"]
    if note:
        parts.append(f'<p class="note">{_e(note)}</p>')
    core = ("The Shapley split is in the core: no coalition would do better alone."
            if result.least_core_complaint is None else
            f"The Shapley split is not in the core; the least-core split below keeps every "
            f"coalition's complaint at most {result.least_core_complaint:.4g}.")
    parts += [f"<p>{_e(core)}</p>", _img(folder / "shares.png"),
              "<h2>Shares</h2>", table_html(result.shares),
              "<h2>Coalitions</h2>", table_html(result.coalitions),
              "<h2>Attribution of the joint plan</h2>", table_html(result.attribution)]
    return _page("Burden sharing", "".join(parts))
