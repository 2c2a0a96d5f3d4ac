package dev.ggda.config;

/**
 * One input table.
 *
 * @param path any Hadoop path (file://, hdfs://, s3a://, or a plain local path); for IDX the images
 *     file
 * @param format parquet | csv | libsvm | idx | synthetic
 * @param idCol column holding a stable example id; when absent from the data, ids are derived
 * @param labelCol integer class label column
 * @param featuresCol feature column (vector or array); for CSV, when the column is absent, every
 *     numeric column other than id, label and group is a feature
 * @param groupCol optional user grouping column (data source, shard, annotator), or null
 * @param labelsPath IDX only: the labels file; null derives it from the images file name
 * @param limit keep only the first {@code limit} examples by example id; null keeps all
 * @param synthetic generator settings for format synthetic
 */
public record DataSource(
    String path,
    DataFormat format,
    String idCol,
    String labelCol,
    String featuresCol,
    String groupCol,
    String labelsPath,
    Long limit,
    SyntheticSpec synthetic) {}
