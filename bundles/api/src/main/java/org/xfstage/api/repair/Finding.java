package org.xfstage.api.repair;

/**
 * One thing a scrub found wrong.
 *
 * @param structure the structure it concerns ({@code bnobt}, {@code agf}, ...), as a strategy's {@code xfstage.structure}
 * @param agno      the AG, or -1 for the whole filesystem
 * @param location  where: a block, a record, a field
 * @param problem   what is wrong, in words
 * @param expected  what the cross-check says it should be, or null
 */
public record Finding(String structure, int agno, String location, String problem, String expected) {
}
