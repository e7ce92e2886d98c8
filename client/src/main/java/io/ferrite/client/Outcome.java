package io.ferrite.client;

/** What happened to one item of a multi-write or multi-remove. */
public enum Outcome {
    /** Done: written, or removed. */
    OK,
    /** Not done: the object does not exist (a remove of an absent key, or a condition). */
    OBJECT_NOT_FOUND,
    /** Not done: {@link Condition#ifAbsent()} found the object. */
    OBJECT_EXISTS,
    /** Not done: a version condition failed. */
    WRONG_VERSION
}
