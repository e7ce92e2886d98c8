package io.ferrite.bench.compare.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Paint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.text.NumberFormat;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * The report's PNG charts (JFreeChart, drawn headless). Each chart is written even when none of
 * its figures was measured (it then says so), so the report's image links always resolve.
 */
final class CompareCharts {
    static final String MEMORY_FILE = "compare-memory.png";
    static final String RECOVERY_FILE = "compare-recovery.png";

    /** Spreads of p99 latencies (largest / smallest) from which the latency axis is logarithmic. */
    static final double LOG_SCALE_SPREAD = 30;

    private static final String NOT_MEASURED = "not measured";
    private static final Map<String, Color> SYSTEM_COLORS = Map.of(
            "redis-everysec", new Color(0xE4, 0x57, 0x56),
            "redis-always", new Color(0x9E, 0x1B, 0x1B),
            "hazelcast", new Color(0x3B, 0x7D, 0xD8),
            "ferrite-r0", new Color(0x8F, 0xD1, 0x8A),
            "ferrite-r1", new Color(0x3F, 0xA3, 0x4D),
            "ferrite-r2", new Color(0x1B, 0x5E, 0x20));
    private static final Color[] OTHER_COLORS = {Color.DARK_GRAY, Color.ORANGE, Color.MAGENTA, Color.CYAN};

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private CompareCharts() {
    }

    static String throughputFile(int recordBytes) {
        return "compare-throughput-" + recordBytes + ".png";
    }

    static String p99File(int recordBytes) {
        return "compare-p99-" + recordBytes + ".png";
    }

    /** Bars of throughput: YCSB phase × system, at one record size. */
    static void writeThroughput(Figures figures, List<String> systems, List<String> phases, int recordBytes, Path dir)
            throws IOException {
        Bars bars = new Bars(systems, phases);
        for (String system : systems) {
            for (String phase : phases) {
                bars.add(system, phase, figures.value(system, phase, recordBytes, Figures.THROUGHPUT, Figures.ALL));
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("Throughput, " + recordBytes + "-byte records",
                "YCSB workload", "ops/s", bars.dataset());
        style(chart, bars);
        save(chart, 1200, 600, dir.resolve(throughputFile(recordBytes)));
    }

    /** Bars of p99 latency: (YCSB phase, op) × system, at one record size; log scale for big spreads. */
    static void writeP99(Figures figures, List<String> systems, List<String> phases, int recordBytes, Path dir)
            throws IOException {
        List<String> categories = new ArrayList<>();
        for (String phase : phases) {
            for (String op : figures.ops(phase, recordBytes, "p99")) {
                categories.add(phase + " " + op);
            }
        }
        Bars bars = new Bars(systems, categories);
        for (String system : systems) {
            for (String phase : phases) {
                for (String op : figures.ops(phase, recordBytes, "p99")) {
                    bars.add(system, phase + " " + op, figures.value(system, phase, recordBytes, "p99", op));
                }
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("p99 latency, " + recordBytes + "-byte records",
                "YCSB workload and operation", "p99 (µs)", bars.dataset());
        style(chart, bars);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        if (bars.minPositive() > 0 && bars.max() / bars.minPositive() >= LOG_SCALE_SPREAD) {
            double lower = Math.pow(10, Math.floor(Math.log10(bars.minPositive())));
            double upper = Math.pow(10, Math.ceil(Math.log10(bars.max() * 1.01)));
            LogAxis axis = new LogAxis("p99 (µs, log scale)");
            axis.setBase(10);
            axis.setTickUnit(new NumberTickUnit(1));
            axis.setMinorTickCount(9);
            axis.setMinorTickMarksVisible(true);
            axis.setNumberFormatOverride(NumberFormat.getNumberInstance(Locale.ROOT));
            axis.setRange(lower, upper);
            plot.setRangeAxis(axis);
            ((BarRenderer) plot.getRenderer()).setBase(lower);
        }
        save(chart, 1400, 650, dir.resolve(p99File(recordBytes)));
    }

    /** Bars of bytes per record, rss and data, after the load and after W3, per system. */
    static void writeMemory(Figures figures, List<String> systems, List<MemoryLine> lines, Path dir)
            throws IOException {
        List<String> categories = new ArrayList<>();
        for (MemoryLine line : lines) {
            categories.add(line.shortLabel());
        }
        Bars bars = new Bars(systems, categories);
        for (String system : systems) {
            for (MemoryLine line : lines) {
                bars.add(system, line.shortLabel(),
                        figures.value(system, line.phase(), line.recordBytes(), line.metric(), Figures.ALL));
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("Memory per record", "phase, record size, figure",
                "bytes per record", bars.dataset());
        style(chart, bars);
        chart.getCategoryPlot().getDomainAxis().setMaximumCategoryLabelLines(2);
        save(chart, 1100, 600, dir.resolve(MEMORY_FILE));
    }

    /** Two stacked bar plots, one bar per recovery: MB/s to full service, and the time to full service. */
    static void writeRecovery(Figures figures, List<RecoveryLine> lines, Path dir) throws IOException {
        List<String> labels = new ArrayList<>();
        for (RecoveryLine line : lines) {
            labels.add(line.label());
        }
        Bars rate = new Bars(List.of("MB/s"), labels);
        Bars time = new Bars(List.of("ms"), labels);
        for (RecoveryLine line : lines) {
            rate.add("MB/s", line.label(), figures.value(line.system(), line.phase(), line.recordBytes(), "mb_per_s",
                    Figures.ALL));
            time.add("ms", line.label(), figures.value(line.system(), line.phase(), line.recordBytes(), "service_ms",
                    Figures.ALL));
        }
        List<String> measured = new ArrayList<>();
        List<Paint> colors = new ArrayList<>();
        for (RecoveryLine line : lines) {
            if (rate.categories().contains(line.label()) || time.categories().contains(line.label())) {
                measured.add(line.label());
                colors.add(colorOf(line.system(), 0));
            }
        }
        CombinedDomainCategoryPlot plot = new CombinedDomainCategoryPlot(new CategoryAxis("system, recovery"));
        plot.add(recoveryPlot(rate, "MB/s", measured, colors, "MB/s to full service"), 1);
        plot.add(recoveryPlot(time, "ms", measured, colors, "time to full service (ms)"), 1);
        plot.getDomainAxis().setMaximumCategoryLabelLines(2);
        plot.setGap(16);
        plot.setBackgroundPaint(Color.WHITE);
        JFreeChart chart = new JFreeChart("Recovery", JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        save(chart, 1000, 700, dir.resolve(RECOVERY_FILE));
    }

    /** One recovery plot; every plot of the chart lists the same categories, so bars line up. */
    private static CategoryPlot recoveryPlot(Bars bars, String series, List<String> categories, List<Paint> colors,
                                             String axis) {
        DefaultCategoryDataset dataset = new DefaultCategoryDataset();
        for (String category : categories) {
            dataset.addValue(bars.get(series, category), series, category);
        }
        BarRenderer renderer = new BarRenderer() {
            @Override
            public Paint getItemPaint(int row, int column) {
                return colors.get(column);
            }
        };
        NumberAxis range = new NumberAxis(axis);
        range.setStandardTickUnits(NumberAxis.createStandardTickUnits(Locale.ROOT));
        CategoryPlot plot = new CategoryPlot(dataset, null, range, renderer);
        stylePlot(plot, renderer);
        plot.setNoDataMessage(NOT_MEASURED);
        return plot;
    }

    private static void style(JFreeChart chart, Bars bars) {
        chart.setBackgroundPaint(Color.WHITE);
        CategoryPlot plot = chart.getCategoryPlot();
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        stylePlot(plot, renderer);
        plot.setNoDataMessage(NOT_MEASURED);
        renderer.setItemMargin(0.02);
        ValueAxis range = plot.getRangeAxis();
        if (range instanceof NumberAxis numbers) {
            numbers.setStandardTickUnits(NumberAxis.createStandardTickUnits(Locale.ROOT));
        }
        int other = 0;
        int row = 0;
        for (String system : bars.series()) {
            Color color = colorOf(system, other);
            if (!SYSTEM_COLORS.containsKey(system)) {
                other++;
            }
            renderer.setSeriesPaint(row++, color);
        }
    }

    private static void stylePlot(CategoryPlot plot, BarRenderer renderer) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlineStroke(new BasicStroke(0.5f));
        plot.setOutlineVisible(false);
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setDrawBarOutline(false);
    }

    private static Color colorOf(String system, int other) {
        Color color = SYSTEM_COLORS.get(system);
        return color != null ? color : OTHER_COLORS[other % OTHER_COLORS.length];
    }

    private static void save(JFreeChart chart, int width, int height, Path file) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream(64 * 1024);
        ChartUtils.writeChartAsPNG(png, chart, width, height);
        ReportFiles.writeAtomically(file, png.toByteArray());
    }

    /**
     * Bar values by series and category, in the given orders, keeping only what was measured: a
     * series or a category with no figure gets no bar and no legend entry.
     */
    private static final class Bars {
        private final List<String> seriesOrder;
        private final List<String> categoryOrder;
        private final Map<Cell, Double> values = new HashMap<>();
        private final Set<String> seriesMeasured = new HashSet<>();
        private final Set<String> categoriesMeasured = new HashSet<>();
        private double max = 0;
        private double minPositive = Double.POSITIVE_INFINITY;

        Bars(List<String> seriesOrder, List<String> categoryOrder) {
            this.seriesOrder = seriesOrder;
            this.categoryOrder = categoryOrder;
        }

        void add(String series, String category, double value) {
            if (!Double.isFinite(value)) {
                return;
            }
            seriesMeasured.add(series);
            categoriesMeasured.add(category);
            values.put(new Cell(series, category), value);
            max = Math.max(max, value);
            if (value > 0) {
                minPositive = Math.min(minPositive, value);
            }
        }

        Double get(String series, String category) {
            return values.get(new Cell(series, category));
        }

        List<String> series() {
            return seriesOrder.stream().filter(seriesMeasured::contains).toList();
        }

        List<String> categories() {
            return categoryOrder.stream().filter(categoriesMeasured::contains).toList();
        }

        double max() {
            return max;
        }

        double minPositive() {
            return Double.isInfinite(minPositive) ? 0 : minPositive;
        }

        DefaultCategoryDataset dataset() {
            DefaultCategoryDataset dataset = new DefaultCategoryDataset();
            for (String series : series()) {
                for (String category : categories()) {
                    dataset.addValue(get(series, category), series, category);
                }
            }
            return dataset;
        }

        private record Cell(String series, String category) {
        }
    }
}
