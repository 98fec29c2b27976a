package org.xfstage.repair.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One fuzz case in the manner of xfstests' fuzz groups: one field of one structure of one corpus geometry, damaged
 * by one verb, with the CRC recomputed (damage the verifiers' CRC check cannot see: {@code fuzz -d}) or left wrong
 * ({@code fuzz -c}, always for the CRC field itself). Its id names all of that, so a case is found again by its id
 * alone, and the value of a {@code random} case is drawn from a Random seeded by the id.
 *
 * @param geometry     the corpus geometry
 * @param target       the structure and how xfs_db reaches it
 * @param field        the field, as xfs_db names it
 * @param was          its value as xfs_db prints it on the clean image, where the print has one of its own (a uuid,
 *                     a string, a number; null for an element of a record array): a random value is made like it
 * @param verb         one of {@link #VERBS}
 * @param crcLeftWrong whether the CRC is left as it was (the block then fails its CRC check)
 */
record FuzzCase(String geometry, Target target, String field, String was, String verb, boolean crcLeftWrong) {

    /** xfs_db's fuzz verbs, and {@code random}, which we do ourselves (xfs_db's cannot be seeded). */
    static final List<String> VERBS = List.of("zeroes", "ones", "firstbit", "middlebit", "lastbit", "add", "sub", "random");

    /**
     * A structure to fuzz.
     *
     * @param kind what it is (a row of the report: {@code agf}, {@code rmapbt-node}, {@code inode-symlink}, ...)
     * @param nav  the xfs_db commands that make it the current object ({@code agf 0}, {@code addr bnoroot})
     */
    record Target(String kind, List<String> nav) {
    }

    /** Geometry, structure, field and verb, and {@code +badcrc} when a field other than the CRC is damaged with it wrong. */
    String id() {
        return geometry + "/" + target.kind() + "/" + field + "/" + verb + (crcLeftWrong && !isCrcField(field) ? "+badcrc" : "");
    }

    static boolean isCrcField(String field) {
        return field.endsWith("crc");
    }

    /**
     * Every case of a target's fields: each field with each verb, the CRC recomputed; the CRC field with each verb and
     * left wrong (as xfstests does, since recomputing it would undo the damage); and a smaller set with the CRC left
     * wrong: each other field once, the verb going round the list (random left out, the others' damage is enough to
     * make the block fail its check).
     */
    static List<FuzzCase> of(String geometry, Target target, List<String> fields, java.util.Map<String, String> values) {
        List<FuzzCase> out = new ArrayList<>();
        int round = 0;
        for (String f : fields) {
            String was = values.get(f);
            if (isCrcField(f)) {
                VERBS.forEach(v -> out.add(new FuzzCase(geometry, target, f, was, v, true)));
                continue;
            }
            VERBS.forEach(v -> out.add(new FuzzCase(geometry, target, f, was, v, false)));
            out.add(new FuzzCase(geometry, target, f, was, VERBS.get(round++ % (VERBS.size() - 1)), true));
        }
        return out;
    }

    /** The seed of this case's random value: from its id, so the same case always writes the same value. */
    long randomSeed() {
        return hash("random", id());
    }

    /**
     * The xfs_db -x commands that print the field, then apply the damage (xfs_db prints the field again after each
     * fuzz or write that it carries out, and nothing after one it refuses). For {@code random}: writes of the case's random bits at every width from 1 to 64,
     * narrowest first; xfs_db refuses those wider than the field ("unable to convert value"), so the last that fits
     * stays and the field gets as many random bits as it holds. A uuid gets a random uuid, a string random letters.
     */
    List<String> commands() {
        List<String> c = new ArrayList<>(target.nav());
        c.add("print " + field);
        String mode = crcLeftWrong ? "-c" : "-d";
        if (!verb.equals("random")) {
            c.add("fuzz " + mode + " " + field + " " + verb);
        } else {
            for (String v : randomValues()) {
                c.add("write " + mode + " " + field + " " + v);
            }
        }
        return c;
    }

    /** The values a random case tries, narrowest first (see {@link #commands}). */
    List<String> randomValues() {
        Random rnd = new Random(randomSeed());
        if (was != null && was.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")) {
            return List.of(new java.util.UUID(rnd.nextLong(), rnd.nextLong()).toString());
        }
        if (was != null && was.startsWith("\"")) {
            StringBuilder s = new StringBuilder("\"");
            for (int i = 0; i < stringLength(was); i++) {
                s.append((char) ('a' + rnd.nextInt(26)));
            }
            return List.of(s.append('"').toString());
        }
        long bits = rnd.nextLong();
        List<String> out = new ArrayList<>();
        for (int width = 1; width <= 64; width++) {
            // the top `width` bits of one draw: every width sees the same random bits, so the value kept is its prefix
            out.add(Long.toUnsignedString(bits >>> (64 - width)));
        }
        return out;
    }

    /** The length of a string as xfs_db prints it: {@code "ab\000"} is three bytes. */
    static int stringLength(String quoted) {
        String s = quoted.substring(1, Math.max(1, quoted.length() - 1));
        return s.replaceAll("\\\\[0-7]{3}", "_").replace("\\\\", "_").length();
    }

    /** The xfs_db commands that reproduce this case, given the value a random case wrote (ignored otherwise). */
    List<String> reproduction(String written) {
        List<String> c = new ArrayList<>(target.nav());
        String mode = crcLeftWrong ? "-c" : "-d";
        c.add(verb.equals("random") ? "write " + mode + " " + field + " " + written : "fuzz " + mode + " " + field + " " + verb);
        return c;
    }

    /** A stable 63-bit hash of a salt and a text (SHA-256), for seeds and for choosing samples. */
    static long hash(String salt, String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((salt + "\n" + text).getBytes(StandardCharsets.UTF_8));
            return java.nio.ByteBuffer.wrap(d).getLong() >>> 1;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
