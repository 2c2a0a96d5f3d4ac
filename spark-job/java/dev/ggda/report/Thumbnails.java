package dev.ggda.report;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import javax.imageio.ImageIO;

/**
 * Member thumbnails for image data. The rule: the training data were read from IDX files ({@code
 * data.train.format: idx}, e.g. MNIST or Fashion-MNIST) and each example has a perfect square
 * number of features (784 = 28 x 28); the features are grey levels in [0, 1], row by row.
 */
public final class Thumbnails {
  private Thumbnails() {}

  /** Whether examples of this format and dimension are drawn as images (the rule above). */
  public static boolean isImage(String trainFormat, int dim) {
    return "idx".equalsIgnoreCase(trainFormat) && side(dim) > 1;
  }

  /** The side of a square image of {@code dim} pixels, or -1 when dim is not a perfect square. */
  public static int side(int dim) {
    int s = (int) Math.round(Math.sqrt(dim));
    return s * s == dim ? s : -1;
  }

  /** Grey level 0..255 of a feature: values are clamped to [0, 1] first. */
  public static int grey(float v) {
    float c = Float.isNaN(v) ? 0f : Math.max(0f, Math.min(1f, v));
    return Math.round(c * 255f);
  }

  /** A greyscale PNG of one example as a {@code data:image/png;base64,...} URI. */
  public static String pngDataUri(float[] pixels) {
    int side = side(pixels.length);
    if (side < 1) {
      throw new IllegalArgumentException(pixels.length + " features are not a square image");
    }
    BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
    WritableRaster raster = img.getRaster();
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        raster.setSample(x, y, 0, grey(pixels[y * side + x]));
      }
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, "png", png)) {
        throw new IllegalStateException("no PNG writer in javax.imageio");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(png.toByteArray());
  }
}
