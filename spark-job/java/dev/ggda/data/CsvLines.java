package dev.ggda.data;

import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;

/**
 * Finds the line of a bad cell in a CSV file, which Spark's CSV source cannot tell: the file is
 * read on the driver with the parser Spark uses and Spark's default dialect, up to the first match.
 * Only error messages use it.
 */
final class CsvLines {
  private CsvLines() {}

  /**
   * The 1-based line (the header is line 1) of the first row whose cell in {@code column} is
   * exactly {@code value}, or -1 when none is (or the file cannot be read).
   */
  static long lineOf(Configuration conf, String file, String column, String value) {
    try {
      Path path = new Path(new URI(file));
      FileSystem fs = path.getFileSystem(conf);
      CompressionCodec codec = new CompressionCodecFactory(conf).getCodec(path);
      try (InputStream raw = fs.open(path);
          InputStream in = codec == null ? raw : codec.createInputStream(raw);
          Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
        CsvParser parser = new CsvParser(settings());
        parser.beginParsing(reader);
        String[] header = parser.parseNext();
        int index = header == null ? -1 : Arrays.asList(header).indexOf(column);
        if (index < 0) {
          return -1;
        }
        for (String[] row = parser.parseNext(); row != null; row = parser.parseNext()) {
          if (index < row.length && value.equals(row[index])) {
            long line = parser.getContext().currentLine();
            parser.stopParsing();
            return line;
          }
        }
        return -1;
      }
    } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
      return -1;
    }
  }

  /** Spark's CSV defaults: comma, double quote, backslash escape, whitespace kept. */
  private static CsvParserSettings settings() {
    CsvParserSettings s = new CsvParserSettings();
    s.getFormat().setDelimiter(',');
    s.getFormat().setQuote('"');
    s.getFormat().setQuoteEscape('\\');
    s.getFormat().setLineSeparator("\n");
    s.setLineSeparatorDetectionEnabled(true);
    s.setIgnoreLeadingWhitespaces(false);
    s.setIgnoreTrailingWhitespaces(false);
    s.setMaxCharsPerColumn(-1);
    s.setMaxColumns(1 << 16);
    return s;
  }
}
