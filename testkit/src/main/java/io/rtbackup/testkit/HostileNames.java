package io.rtbackup.testkit;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * File names that break code treating names as text, shell words or command-line options. Every name is a
 * valid single Linux path component (no '/', no NUL, 1..255 bytes).
 */
public final class HostileNames {

    /** One hostile name and what makes it hostile. */
    public record Name(String label, byte[] bytes) {
        public Name {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public String toString() {
            return label + " '" + BytePaths.show(bytes) + "'";
        }
    }

    private static final List<Name> NAMES = List.of(
            new Name("newline inside", ascii("new\nline")),
            new Name("spaces, leading and trailing", ascii(" spaced  out ")),
            new Name("leading dash", ascii("-leading-dash")),
            new Name("option --help", ascii("--help")),
            new Name("option -e", ascii("-e")),
            new Name("all bytes 0x80-0xFF (invalid UTF-8)", highBytes()),
            new Name("latin-1 e-acute (invalid UTF-8)", new byte[] {'c', 'a', 'f', (byte) 0xE9}),
            new Name("valid UTF-8 e-acute", "caf\u00e9-utf8".getBytes(StandardCharsets.UTF_8)),
            new Name("255 bytes", longName()),
            new Name("backslash", ascii("back\\slash")),
            new Name("glob characters", ascii("star*question?[set]")),
            new Name("tab inside", ascii("tab\there")),
            new Name("carriage return", ascii("cr\rname")),
            new Name("hidden", ascii(".hidden")),
            new Name("rsync escape look-alike", ascii("not\\#012escaped")),
            new Name("host:path look-alike", ascii("host:path")),
            new Name("arrow look-alike", ascii("a -> b")));

    private HostileNames() {
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] highBytes() {
        byte[] b = new byte[128];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (0x80 + i);
        }
        return b;
    }

    private static byte[] longName() {
        byte[] b = new byte[255];
        Arrays.fill(b, (byte) 'L');
        // a multi-byte-looking tail so truncation to 255 "characters" instead of bytes would show
        b[250] = (byte) 0xF0;
        b[251] = (byte) 0x9F;
        b[254] = '-';
        return b;
    }

    /** The names with their labels. */
    public static List<Name> named() {
        return NAMES;
    }

    /** Fresh copies of all names. */
    public static List<byte[]> all() {
        List<byte[]> out = new ArrayList<>(NAMES.size());
        for (Name n : NAMES) {
            out.add(n.bytes());
        }
        return out;
    }

    /**
     * Fills {@code root} (which must exist) with a tree made of hostile names:
     * <ul>
     *   <li>{@code <name>}: a regular file per name, content "content of " + name;</li>
     *   <li>{@code dirs/<name>/<name>}: a directory per name holding a file of the same name;</li>
     *   <li>{@code deep/<n0>/<n1>/.../leaf}: one chain of directories through the short names;</li>
     *   <li>{@code links/<name>}: a symlink per name whose target is the name itself (dangling, relative);</li>
     *   <li>{@code hard/<name>}: a hard link to the top-level file {@code <name>}, for the first three names.</li>
     * </ul>
     *
     * @return the relative paths of everything created, in unsigned byte order (directories included)
     */
    public static List<byte[]> createTree(byte[] root) throws IOException {
        List<byte[]> created = new ArrayList<>();
        for (Name n : NAMES) {
            byte[] name = n.bytes();
            ByteFs.write(BytePaths.join(root, name), BytePaths.concat(ascii("content of "), name));
            created.add(name);
        }
        byte[] dirs = ascii("dirs");
        ByteFs.mkdir(BytePaths.join(root, dirs));
        created.add(dirs);
        for (Name n : NAMES) {
            byte[] dir = BytePaths.join(dirs, n.bytes());
            ByteFs.mkdir(BytePaths.join(root, dir));
            byte[] file = BytePaths.join(dir, n.bytes());
            ByteFs.write(BytePaths.join(root, file), BytePaths.concat(ascii("nested "), n.bytes()));
            created.add(dir);
            created.add(file);
        }
        byte[] deep = ascii("deep");
        ByteFs.mkdir(BytePaths.join(root, deep));
        created.add(deep);
        for (Name n : NAMES) {
            if (n.bytes.length > 64) {
                continue;
            }
            deep = BytePaths.join(deep, n.bytes());
            ByteFs.mkdir(BytePaths.join(root, deep));
            created.add(deep);
        }
        byte[] leaf = BytePaths.join(deep, ascii("leaf"));
        ByteFs.write(BytePaths.join(root, leaf), ascii("leaf"));
        created.add(leaf);

        byte[] links = ascii("links");
        ByteFs.mkdir(BytePaths.join(root, links));
        created.add(links);
        for (Name n : NAMES) {
            byte[] link = BytePaths.join(links, n.bytes());
            ByteFs.symlink(n.bytes(), BytePaths.join(root, link));
            created.add(link);
        }

        byte[] hard = ascii("hard");
        ByteFs.mkdir(BytePaths.join(root, hard));
        created.add(hard);
        for (Name n : NAMES.subList(0, 3)) {
            byte[] link = BytePaths.join(hard, n.bytes());
            ByteFs.link(BytePaths.join(root, n.bytes()), BytePaths.join(root, link));
            created.add(link);
        }
        created.sort(BytePaths.ORDER);
        return created;
    }
}
