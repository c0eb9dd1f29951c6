//! Charts drawn on the server as SVG (plotters), so the page needs no charting script.
//! They carry no text: the page labels them in HTML, where the template escapes it.

use plotters::prelude::*;

/// Width and height of a chart, in SVG units (the page scales it to its box).
const SIZE: (u32, u32) = (640, 220);

/// The colours of a chart's series, in order.
const SERIES: [RGBColor; 2] = [RGBColor(31, 111, 235), RGBColor(191, 90, 0)];

/// A line through `points` (x ascending) over a faint area down to zero, as an SVG
/// element; `None` when there are fewer than two points or a coordinate is not finite.
pub fn line(points: &[(f64, f64)]) -> Option<String> {
    draw(&[points], true)
}

/// One line per series (each x ascending) on shared axes, in the [`SERIES`] colours; a
/// series of fewer than two points is left out, and `None` is returned when none is
/// left or a coordinate is not finite.
pub fn lines(series: &[&[(f64, f64)]]) -> Option<String> {
    draw(series, false)
}

fn draw(series: &[&[(f64, f64)]], area: bool) -> Option<String> {
    if series
        .iter()
        .flat_map(|points| points.iter())
        .any(|(x, y)| !x.is_finite() || !y.is_finite())
    {
        return None;
    }
    let drawn: Vec<&[(f64, f64)]> = series.iter().copied().filter(|p| p.len() >= 2).collect();
    let all = || drawn.iter().flat_map(|points| points.iter());
    let x0 = drawn.iter().map(|p| p[0].0).reduce(f64::min)?;
    let x1 = drawn.iter().map(|p| p[p.len() - 1].0).reduce(f64::max)?;
    let (low, high) = all().fold((0.0_f64, 0.0_f64), |(lo, hi), (_, y)| {
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
        for (points, colour) in drawn.iter().zip(SERIES.iter().cycle()) {
            if area {
                chart
                    .draw_series(AreaSeries::new(
                        points.iter().copied(),
                        0.0,
                        colour.mix(0.12),
                    ))
                    .ok()?;
            }
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .ok()?;
        }
        root.present().ok()?;
    }
    Some(svg)
}

/// A bar from zero to each `(x, y)` (x whole units apart, such as days), green up and
/// red down, on an x axis from `window`'s first to last unit (widened to fit every
/// bar), as an SVG element; `None` with no bars or a coordinate not finite.
pub fn bars(values: &[(f64, f64)], window: (f64, f64)) -> Option<String> {
    if values.is_empty() || values.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return None;
    }
    let (first, last) = values
        .iter()
        .fold(window, |(lo, hi), (x, _)| (lo.min(*x), hi.max(*x)));
    let (low, high) = values.iter().fold((0.0_f64, 0.0_f64), |(lo, hi), (_, y)| {
        (lo.min(*y), hi.max(*y))
    });
    let pad = ((high - low) * 0.05).max(1e-9);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .build_cartesian_2d((first - 0.5)..(last + 0.5), (low - pad)..(high + pad))
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                [(first - 0.5, 0.0), (last + 0.5, 0.0)],
                RGBColor(170, 178, 187).stroke_width(1),
            ))
            .ok()?;
        chart
            .draw_series(values.iter().map(|&(x, y)| {
                let colour = if y >= 0.0 {
                    RGBColor(26, 127, 55)
                } else {
                    RGBColor(207, 34, 46)
                };
                Rectangle::new([(x - 0.4, 0.0), (x + 0.4, y)], colour.filled())
            }))
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

    #[test]
    fn two_curves_share_one_chart_in_two_colours() {
        let a = [(1.0, 0.0), (2.0, 1.0)];
        let b = [(1.5, 0.0), (3.0, -2.0)];
        let svg = lines(&[&a, &b]).expect("drawn");
        assert_eq!(
            svg.matches("<polyline").count(),
            3,
            "zero line and two curves: {svg}"
        );
        assert!(svg.contains("#1F6FEB") || svg.contains("#1f6feb"), "{svg}");
        assert!(svg.contains("#BF5A00") || svg.contains("#bf5a00"), "{svg}");
        let one = lines(&[&a, &b[..1]]).expect("the drawable one");
        assert_eq!(one.matches("<polyline").count(), 2, "{one}");
        assert!(lines(&[&a[..1]]).is_none());
    }

    #[test]
    fn daily_profit_is_a_bar_per_day_coloured_by_sign() {
        let svg = bars(&[(10.0, 2.0), (11.0, -1.0), (13.0, 0.5)], (12.0, 20.0)).expect("drawn");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains("#1A7F37") || svg.contains("#1a7f37"), "{svg}");
        assert!(svg.contains("#CF222E") || svg.contains("#cf222e"), "{svg}");
        assert!(!svg.contains("style="), "{svg}");
        assert!(bars(&[], (0.0, 1.0)).is_none());
        assert!(bars(&[(1.0, f64::INFINITY)], (0.0, 1.0)).is_none());
    }
}
