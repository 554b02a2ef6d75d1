import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Formats a value for the axis and the legend. */
  format?: (n: number) => string;
  /** Draw on the right-hand axis (a second unit, such as money next to counts). */
  rightAxis?: boolean;
}

/**
 * A time-series chart on uPlot: tiny, fast on thousands of points, and resizes with its box.
 * `days` are YYYY-MM-DD (UTC) buckets.
 */
export function TimeSeriesChart({
  days,
  series,
  height = 260,
  label,
}: {
  days: string[];
  series: ChartSeries[];
  height?: number;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const dark = window.matchMedia?.('(prefers-color-scheme: dark)').matches;
    const axisStroke = dark ? '#94a3b8' : '#64748b';
    const grid = { stroke: dark ? '#1e293b' : '#f1f5f9', width: 1 };
    const hasRight = series.some((s) => s.rightAxis);
    const rightFormat = series.find((s) => s.rightAxis)?.format;
    const leftFormat = series.find((s) => !s.rightAxis)?.format;
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true }, ...(hasRight ? { right: { auto: true } } : {}) },
      axes: [
        { stroke: axisStroke, grid, ticks: grid },
        {
          stroke: axisStroke,
          grid,
          ticks: grid,
          // Money labels ("$1,250.00") are wider than uPlot's default axis: size the axis to fit them.
          size: leftFormat ? 80 : 50,
          values: (_u, vals) => vals.map((v) => (leftFormat ? leftFormat(v) : String(v))),
        },
        ...(hasRight
          ? [
              {
                side: 1,
                scale: 'right',
                stroke: axisStroke,
                grid: { show: false },
                size: rightFormat ? 80 : 50,
                values: (_u: uPlot, vals: number[]) => vals.map((v) => (rightFormat ? rightFormat(v) : String(v))),
              },
            ]
          : []),
      ],
      series: [
        { label: 'Day', value: (_u, v) => (v == null ? '—' : new Date(v * 1000).toISOString().slice(0, 10)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: `${s.color}18`,
          points: { show: days.length < 40 },
          scale: s.rightAxis ? 'right' : 'y',
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : s.format ? s.format(v) : String(v)),
        })),
      ],
    };
    const data: uPlot.AlignedData = [days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000), ...series.map((s) => s.values)];
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, series, height]);
  return <div ref={box} role="img" aria-label={label} className="w-full" />;
}
