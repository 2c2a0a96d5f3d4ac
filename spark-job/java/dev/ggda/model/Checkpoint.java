package dev.ggda.model;

/**
 * One saved parameter vector of one ensemble member.
 *
 * @param member ensemble member index (0-based)
 * @param index checkpoint index within the member (0-based; the last one is the final model)
 * @param step SGD steps taken when it was saved
 * @param epoch epochs completed when it was saved (fractional progress rounds down)
 * @param learningRate the learning rate in effect at this point of training (TracIn's eta_t)
 * @param params flat parameters, layout of {@link dev.ggda.math.Architecture}
 */
public record Checkpoint(
    int member, int index, long step, int epoch, double learningRate, float[] params) {}
