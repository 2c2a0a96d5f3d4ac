package dev.ggda.evaluation;

import java.io.Serializable;

/**
 * What a retrained model does on the evaluation set, row by row in the set's example_id order.
 *
 * @param margins TRAK's margin f(z; theta) per evaluation row
 * @param losses cross-entropy per evaluation row
 * @param accuracy fraction of evaluation rows classified correctly
 * @param meanLoss mean of {@code losses}
 */
public record RetrainResult(
    String id, long seed, float[] margins, float[] losses, double accuracy, double meanLoss)
    implements Serializable {}
