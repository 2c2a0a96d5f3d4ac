package dev.ggda.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.MapperBuilder;
import com.fasterxml.jackson.databind.deser.Deserializers;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The Jackson mappers that read and write configs: snake_case keys, enums as kebab-case words. */
final class ConfigMapper {
  static final YAMLMapper YAML =
      configure(
              YAMLMapper.builder(
                  YAMLFactory.builder()
                      // Quote every string value: with MINIMIZE_QUOTES, paths such as 1e3, 0x1F or
                      // .inf would come back as numbers (or not parse), breaking the round trip.
                      .disable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                      // "model:" with nothing after it is null in YAML, not the empty string.
                      .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
                      .build()))
          .build();

  static final JsonMapper JSON = configure(JsonMapper.builder()).build();

  private ConfigMapper() {}

  private static <M extends ObjectMapper, B extends MapperBuilder<M, B>> B configure(B builder) {
    return builder
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .addModule(enumModule())
        // A duplicated key in a YAML file is almost always a mistake; do not let the last one win.
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        // After merging over defaults.yaml every key is present; a missing one is a defaults bug.
        .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        // epochs: 2.5 is a mistake, not 2.
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        // hidden: 128 means [128].
        .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        .enable(SerializationFeature.INDENT_OUTPUT);
  }

  /** The YAML spelling of an enum constant: KMEANS_GRAD is kmeans-grad. */
  static String name(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** All YAML spellings of an enum type, in declaration order. */
  static List<String> names(Class<?> enumType) {
    return Arrays.stream(enumType.getEnumConstants()).map(e -> name((Enum<?>) e)).toList();
  }

  private static SimpleModule enumModule() {
    SimpleModule module =
        new SimpleModule("ggda-enums") {
          @Override
          public void setupModule(SetupContext context) {
            super.setupModule(context);
            context.addDeserializers(
                new Deserializers.Base() {
                  @Override
                  public JsonDeserializer<?> findEnumDeserializer(
                      Class<?> type, DeserializationConfig config, BeanDescription beanDesc) {
                    return new EnumDeserializer(type);
                  }
                });
          }
        };
    module.addSerializer(Enum.class, new EnumSerializer());
    return module;
  }

  @SuppressWarnings("rawtypes")
  private static final class EnumSerializer extends JsonSerializer<Enum> {
    @Override
    public void serialize(Enum value, JsonGenerator gen, SerializerProvider p) throws IOException {
      gen.writeString(name(value));
    }
  }

  /**
   * Case-insensitive, hyphen or underscore: kmeans-grad, KMEANS_GRAD and Kmeans-Grad are all
   * KMEANS_GRAD. Anything else, null included, fails with the enum as target type so that the
   * loader can list the valid words.
   */
  private static final class EnumDeserializer extends JsonDeserializer<Object> {
    private final Class<?> type;

    EnumDeserializer(Class<?> type) {
      this.type = type;
    }

    @Override
    public Object deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (p.currentToken() == JsonToken.VALUE_STRING) {
        String wanted = p.getText().trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (Object constant : type.getEnumConstants()) {
          if (((Enum<?>) constant).name().equals(wanted)) {
            return constant;
          }
        }
      }
      throw MismatchedInputException.from(p, type, "not one of " + names(type));
    }

    @Override
    public Object getNullValue(DeserializationContext ctxt) throws MismatchedInputException {
      throw MismatchedInputException.from(
          ctxt.getParser(), type, "null is not one of " + names(type));
    }

    @Override
    public Class<?> handledType() {
      return type;
    }
  }
}
