package dev.ggda.apps;

/** One row of group_values/: a group's size and its value (score summed over targets). */
public record GroupValue(long groupId, long size, double value, double valuePerExample) {}
