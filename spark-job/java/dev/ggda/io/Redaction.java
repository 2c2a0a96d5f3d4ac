package dev.ggda.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Keeps credentials out of what a run writes (run.json, report): values of keys that name a secret
 * (secret, password, token, credential, access key) become "***", and the user-info part of URIs
 * (s3a://ACCESS:SECRET@bucket/..., a form Hadoop still accepts) is masked.
 */
public final class Redaction {
  static final String MASK = "***";
  private static final Pattern SECRET_KEY =
      Pattern.compile(
          "(?i).*(secret|password|passwd|token|credential|access[._-]?key|session[._-]?key).*");
  private static final Pattern URI_USER_INFO =
      Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)[^/@\\s]+@");

  private Redaction() {}

  public static boolean isSecretKey(String key) {
    return SECRET_KEY.matcher(key).matches();
  }

  /** A string with the user-info of any URI in it masked. */
  public static String maskUris(String s) {
    return URI_USER_INFO.matcher(s).replaceAll("$1" + MASK + "@");
  }

  /** Redacts {@code node} in place (and returns it). */
  public static JsonNode redact(JsonNode node) {
    if (node instanceof ObjectNode o) {
      List<String> names = new ArrayList<>();
      o.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        JsonNode v = o.get(name);
        if (isSecretKey(name) && v != null && !v.isNull() && !v.isContainerNode()) {
          o.put(name, MASK);
        } else {
          o.set(name, redact(v));
        }
      }
      return o;
    }
    if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        a.set(i, redact(a.get(i)));
      }
      return a;
    }
    if (node != null && node.isTextual()) {
      String masked = maskUris(node.asText());
      return masked.equals(node.asText()) ? node : TextNode.valueOf(masked);
    }
    return node;
  }
}
