package dev.ggda.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.regex.Pattern;

/**
 * Escaping for the two contexts the report puts user-supplied strings in: HTML text and JSON in a
 * script.
 */
public final class Html {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SCRIPT_CLOSE = Pattern.compile("</(?=(?i:script))");

  private Html() {}

  /** Text safe in HTML content and in quoted attribute values; null becomes the empty string. */
  public static String escape(Object value) {
    if (value == null) {
      return "";
    }
    String s = value.toString();
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  /**
   * JSON that can sit inside a {@code <script>} element: '<', '>' and '&' only occur inside JSON
   * strings, where their \\u escapes mean the same, so neither {@code </script>} nor {@code <!--}
   * can end or change the element; U+2028/U+2029 are escaped for older JavaScript parsers.
   */
  public static String scriptJson(Object value) {
    String json;
    try {
      json = JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "report data is not serialisable as JSON: " + e.getMessage(), e);
    }
    return json.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029");
  }

  /**
   * A trusted script (the chart library) made safe to inline: a literal {@code </script} would end
   * the element early; inside a JavaScript string {@code <\/script} means the same.
   */
  static String inlineScript(String js) {
    return SCRIPT_CLOSE.matcher(js).replaceAll("<\\\\/");
  }
}
