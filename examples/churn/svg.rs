//! The churn plot, as a small hand-written SVG: two panels over the
//! operations, bounds tables mapped and table memory resident, each with the
//! kernel that frees tables beside one that never does.

use std::fmt::Write;

/// One point of every curve.
pub struct Sample {
    /// Operations done.
    pub op: u64,
    /// Table mappings alive with the unmap hook.
    pub tables: u64,
    /// Table bytes resident with the unmap hook.
    pub resident: u64,
    /// Tables a never-freeing kernel would hold.
    pub tables_never_freed: u64,
    /// Table bytes a never-freeing kernel would hold resident.
    pub resident_never_freed: u64,
}

/// A curve: its legend, its colour and its points (operation, value).
type Curve<'a> = (&'a str, &'a str, Vec<(u64, f64)>);

const WIDTH: f64 = 760.0;
const PANEL: f64 = 230.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 64.0;
const GAP: f64 = 60.0;
const FREES: &str = "#1f77b4";
const NEVER: &str = "#d62728";

/// The SVG document for `samples` (tables of `table_bytes` each).
pub fn plot(samples: &[Sample], table_bytes: u64) -> String {
    let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
    let height = TOP + 2.0 * PANEL + GAP + 50.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    let ops = samples.last().map_or(1, |s| s.op.max(1));
    let _ = writeln!(
        out,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">mpx churn: {ops} random mmap / munmap / BNDSTX operations in a 1 GiB arena</text>"#,
        WIDTH / 2.0
    );
    let tables = |f: fn(&Sample) -> u64| -> Vec<(u64, f64)> {
        samples.iter().map(|s| (s.op, f(s) as f64)).collect()
    };
    let resident = |f: fn(&Sample) -> u64| -> Vec<(u64, f64)> {
        samples.iter().map(|s| (s.op, mib(f(s)))).collect()
    };
    panel(
        &mut out,
        TOP,
        ops,
        &format!(
            "bounds tables mapped ({} MiB of address space each)",
            table_bytes >> 20
        ),
        &[
            ("never frees", NEVER, tables(|s| s.tables_never_freed)),
            ("frees on munmap (mpx)", FREES, tables(|s| s.tables)),
        ],
    );
    panel(
        &mut out,
        TOP + PANEL + GAP,
        ops,
        "table memory resident (MiB)",
        &[
            ("never frees", NEVER, resident(|s| s.resident_never_freed)),
            ("frees on munmap (mpx)", FREES, resident(|s| s.resident)),
        ],
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">operations</text>"#,
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        height - 12.0
    );
    out.push_str("</svg>\n");
    out
}

/// One panel at `top`: axes, ticks, a title and the curves.
fn panel(out: &mut String, top: f64, ops: u64, title: &str, curves: &[Curve<'_>]) {
    let w = WIDTH - LEFT - RIGHT;
    let max = curves
        .iter()
        .flat_map(|(_, _, points)| points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let top_value = nice_ceiling(max);
    let x = |op: u64| LEFT + w * op as f64 / ops as f64;
    let y = |v: f64| top + PANEL - PANEL * v / top_value;
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="{}" font-size="13">{title}</text>"#,
        top - 8.0
    );
    for i in 0..=4 {
        let v = top_value * f64::from(i) / 4.0;
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#dddddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + w,
            LEFT - 6.0,
            y(v) + 4.0,
            label(v),
            yy = y(v)
        );
    }
    for i in 0..=5 {
        let op = ops * i / 5;
        let _ = writeln!(
            out,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{}" y2="{}" stroke="#999999"/><text x="{xx:.1}" y="{}" text-anchor="middle">{op}</text>"##,
            top + PANEL,
            top + PANEL + 4.0,
            top + PANEL + 17.0,
            xx = x(op)
        );
    }
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{top}" width="{w}" height="{PANEL}" fill="none" stroke="#333333"/>"##
    );
    for (i, (name, colour, points)) in curves.iter().enumerate() {
        let mut path = String::new();
        for (j, &(op, v)) in points.iter().enumerate() {
            let _ = write!(
                path,
                "{}{:.1},{:.1} ",
                if j == 0 { "M" } else { "L" },
                x(op),
                y(v)
            );
        }
        let _ = writeln!(
            out,
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.trim_end()
        );
        let ly = top + 16.0 + 16.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"/><text x="{}" y="{}">{name}</text>"#,
            LEFT + 10.0,
            LEFT + 30.0,
            LEFT + 36.0,
            ly + 4.0
        );
    }
}

/// The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a
/// power of ten) at or above `v`.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&c| c >= v)
        .unwrap_or(10.0 * magnitude)
}

fn label(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
