package dev.ggda.grouping;

import java.util.Map;

/**
 * The stored k-means centres a run's groups came from (incremental.store).
 *
 * @param id names the clustering in the store; its group keys mean something under this id only
 * @param report run.json "incremental.clustering": which centres, whether they were fitted now and
 *     why, how many table versions they served, and how many files had to be assigned
 */
public record StoredClustering(String id, Map<String, Object> report) {}
