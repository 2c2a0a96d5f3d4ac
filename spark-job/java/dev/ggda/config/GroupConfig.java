package dev.ggda.config;

/**
 * @param method random | label | column | kmeans-input | kmeans-repr | kmeans-grad
 * @param size mean group size (1 = per-example attribution)
 * @param count number of groups instead of a size; null uses size
 * @param seed seeds random assignment and k-means
 * @param normalize k-means methods: scale each example's clustering vector to unit length first
 *     (cosine k-means), so clusters follow directions rather than magnitudes
 * @param refitEvery k-means methods with incremental.store: the stored centres serve this many
 *     versions of the training table (sets of input files), then the next new version is clustered
 *     again; 0 keeps them until the settings or the model change
 */
public record GroupConfig(
    GroupMethod method, int size, Integer count, long seed, boolean normalize, int refitEvery) {
  /** The same grouping with another method, size and count. */
  public GroupConfig with(GroupMethod method, int size, Integer count) {
    return new GroupConfig(method, size, count, seed, normalize, refitEvery);
  }
}
