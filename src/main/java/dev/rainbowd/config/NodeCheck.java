package dev.rainbowd.config;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.resolver.CoreScalarResolver;

/**
 * Checks the composed node tree before snakeyaml-engine turns it into Java objects, for what the
 * engine would get wrong there: a list or mapping as a key (hashed and, in a duplicate-key message,
 * printed in full: an alias bomb), two null keys (the duplicate-key message then throws), numbers
 * so long that parsing them takes seconds, and explicit tags whose text does not fit
 * ({@code !!bool maybe} would silently be null, {@code !!int abc} a Java exception).
 */
final class NodeCheck {

    /** No config number is longer, and the engine parses numbers in quadratic time. */
    private static final int MAX_NUMBER_LENGTH = 100;

    // What the core schema resolves to each tag (the engine's own patterns where they are right).
    private static final Map<Tag, Pattern> SCALARS = Map.of(
            Tag.INT, CoreScalarResolver.INT,
            Tag.FLOAT, CoreScalarResolver.FLOAT,
            Tag.BOOL, CoreScalarResolver.BOOL,
            Tag.NULL, Pattern.compile("|~|null|Null|NULL"));

    private static final Map<Tag, String> WHAT = Map.of(
            Tag.INT, "an integer", Tag.FLOAT, "a number", Tag.BOOL, "true or false", Tag.NULL, "null");

    // Core schema resolves it as a float, but the engine's float constructor cannot read it.
    private static final Pattern PLUS_INF = Pattern.compile("\\+\\.(?:inf|Inf|INF)");

    /** {@code path}: where the node is, for messages ({@code top level}, {@code port}, {@code env: A}). */
    private record Item(Node node, String path, int depth) {}

    private NodeCheck() {}

    static void check(String name, Node root) throws ConfigException {
        // Iterative, and each node once: aliases make the tree a graph, possibly with cycles.
        Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Item> todo = new ArrayDeque<>();
        todo.push(new Item(root, "top level", 0));
        while (!todo.isEmpty()) {
            Item item = todo.pop();
            if (!seen.add(item.node())) {
                continue;
            }
            if (item.node() instanceof ScalarNode scalar) {
                scalar(name, item.path(), scalar);
            } else if (item.node() instanceof SequenceNode seq) {
                List<Node> children = seq.getValue();
                for (int i = children.size() - 1; i >= 0; i--) {
                    todo.push(new Item(children.get(i), item.path(), item.depth()));
                }
            } else if (item.node() instanceof MappingNode map) {
                keys(name, item.path(), map);
                List<NodeTuple> tuples = map.getValue();
                for (int i = tuples.size() - 1; i >= 0; i--) {
                    // Paths name a key and, for env, its entry; deeper ones would only grow long.
                    String path = item.path();
                    if (item.depth() < 2) {
                        String key = ConfigLoader.escape(((ScalarNode) tuples.get(i).getKeyNode()).getValue(), 60);
                        path = item.depth() == 0 ? key : path + ": " + key;
                    }
                    todo.push(new Item(tuples.get(i).getValueNode(), path, item.depth() + 1));
                }
            }
        }
    }

    private static void keys(String name, String path, MappingNode map) throws ConfigException {
        boolean nullKey = false;
        for (NodeTuple t : map.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode key)) {
                String kind = t.getKeyNode() instanceof SequenceNode ? "a list" : "a mapping";
                throw new ConfigException(name + ": " + path + ": " + kind + " cannot be a key; keys are plain names"
                        + at(t.getKeyNode()));
            }
            scalar(name, path, key);
            if (key.getTag().equals(Tag.NULL)) {
                if (nullKey) {
                    throw new ConfigException(name + ": duplicate key null" + ConfigLoader.at(key.getStartMark()));
                }
                nullKey = true;
            }
        }
    }

    private static void scalar(String name, String path, ScalarNode node) throws ConfigException {
        Tag tag = node.getTag();
        Pattern pattern = SCALARS.get(tag);
        if (pattern == null) {
            return; // a string, or a tag the constructor checks itself
        }
        String text = node.getValue();
        String shown = node.isPlain() ? ConfigLoader.escape(text, 60) : ConfigLoader.quote(text);
        String reason;
        if ((tag.equals(Tag.INT) || tag.equals(Tag.FLOAT)) && text.length() > MAX_NUMBER_LENGTH) {
            reason = shown + " is too long for a number, over " + MAX_NUMBER_LENGTH + " characters";
        } else if (tag.equals(Tag.FLOAT) && PLUS_INF.matcher(text).matches()) {
            reason = shown + " is not a number; for infinity write .inf";
        } else if (!pattern.matcher(text).matches()) {
            // Only an explicit tag gets here: the implicit ones were resolved by these patterns.
            reason = tagName(tag) + " " + shown + " is not " + WHAT.get(tag);
        } else {
            return;
        }
        throw new ConfigException(name + ": " + path + ": " + reason + at(node));
    }

    /** {@code !!int}, as the user writes it, for {@code tag:yaml.org,2002:int}. */
    static String tagName(Tag tag) {
        return tag.getValue().replace(Tag.PREFIX, "!!");
    }

    private static String at(Node node) {
        return node.getStartMark().map(m -> " (line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1) + ")").orElse("");
    }
}
