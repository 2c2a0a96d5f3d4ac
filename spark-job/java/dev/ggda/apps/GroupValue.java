package dev.ggda.apps;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One row of group_values/: a group's size and its value (score summed over targets), and the
 * user's name of the group (group_key, group.method column) or null.
 */
public record GroupValue(
    long groupId, long size, double value, double valuePerExample, String groupKey) {
  /** A group without a name. */
  public GroupValue(long groupId, long size, double value, double valuePerExample) {
    this(groupId, size, value, valuePerExample, null);
  }

  /** "'vendor-a' (group 3)" for a named group, "group 3" otherwise. */
  String describe(boolean named) {
    return named ? AppSupport.groupName(groupKey, groupId) : "group " + groupId;
  }

  /** The first {@code shown} groups described, then how many more. */
  static String describe(List<GroupValue> groups, boolean named, int shown) {
    String first =
        groups.stream().limit(shown).map(g -> g.describe(named)).collect(Collectors.joining(", "));
    return groups.size() > shown ? first + " and " + (groups.size() - shown) + " more" : first;
  }
}
