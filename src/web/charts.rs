//! Charts drawn on the server as SVG (plotters), so the page needs no charting script.
//! They carry no text: the page labels them in HTML, where the template escapes it.

use plotters::prelude::*;

/// Width and height of a chart, in SVG units (the page scales it to its box).
const SIZE: (u32, u32) = (640, 220);

/// A line through `points` (x ascending) over a faint area down to zero, as an SVG
/// element; `None` when there are fewer than two points or a coordinate is not finite.
pub fn line(points: &[(f64, f64)]) -> Option<String> {
    if points.len() < 2 || points.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return None;
    }
    let (x0, x1) = (points[0].0, points[points.len() - 1].0);
    let (low, high) = points.iter().fold((0.0_f64, 0.0_f64), |(lo, hi), (_, y)| {
        (lo.min(*y), hi.max(*y))
    });
    let pad = ((high - low) * 0.05).max(1e-9);
    let x_range = if x1 > x0 { x0..x1 } else { x0..x0 + 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .build_cartesian_2d(x_range, (low - pad)..(high + pad))
            .ok()?;
        let zero = [(x0, 0.0), (x1, 0.0)];
        chart
            .draw_series(LineSeries::new(
                zero,
                RGBColor(170, 178, 187).stroke_width(1),
            ))
            .ok()?;
        chart
            .draw_series(AreaSeries::new(
                points.iter().copied(),
                0.0,
                RGBColor(31, 111, 235).mix(0.12),
            ))
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                RGBColor(31, 111, 235).stroke_width(2),
            ))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Cumulative sums of `(x, delta)` in x order: an equity curve from closed trades'
/// profits, starting at zero before the first.
pub fn cumulative(mut deltas: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    deltas.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut total = 0.0;
    let mut points = Vec::with_capacity(deltas.len() + 1);
    if let Some((first, _)) = deltas.first() {
        points.push((*first, 0.0));
    }
    for (x, delta) in deltas {
        total += delta;
        points.push((x, total));
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_equity_curve_is_a_drawn_line_of_running_totals() {
        let points = cumulative(vec![(3.0, -1.0), (1.0, 2.0), (2.0, 0.5)]);
        assert_eq!(points, [(1.0, 0.0), (1.0, 2.0), (2.0, 2.5), (3.0, 1.5)]);
        let svg = line(&points).expect("drawn");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<polyline") || svg.contains("<path"), "{svg}");
        assert!(
            !svg.contains("style="),
            "the page's policy forbids inline style: {svg}"
        );
        assert!(line(&points[..1]).is_none());
        assert!(line(&[(0.0, f64::NAN), (1.0, 1.0)]).is_none());
    }
}
