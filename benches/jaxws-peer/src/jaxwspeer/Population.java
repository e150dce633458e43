package jaxwspeer;

import java.util.HashMap;
import java.util.Map;

/**
 * The synthetic population of benches/common/mod.rs and benches/node-peer/server.js: the
 * same identities in the same order, with the same name, address and contact fields, so
 * the bench's requests find the same persons here as in the adapter and the Node peer.
 */
final class Population {
    static final int SIZE = 100_000;

    private static final int DAYS_PER_YEAR = 336;
    private static final int YEARS = 80;

    private Population() {}

    static Map<String, Person> generate(int size) {
        Map<String, Person> people = new HashMap<>(size * 2);
        for (int i = 0; i < size; i++) {
            Person person = person(i);
            people.put(person.id(), person);
        }
        return people;
    }

    static Person person(int i) {
        return new Person(
                pnr(i),
                "Förnamn" + i,
                "Efternamn",
                "Gatan " + (i % 200),
                10000 + (i % 89999),
                "Staden",
                String.format("+4670%07d", i),
                "person" + i + "@example.se");
    }

    /** Twelve-digit personnummer number i: 28 days a month, 12 months, years 1930-2009. */
    static String pnr(int i) {
        int dayIndex = i % (YEARS * DAYS_PER_YEAR);
        int year = 1930 + dayIndex / DAYS_PER_YEAR;
        int rest = dayIndex % DAYS_PER_YEAR;
        int month = rest / 28 + 1;
        int day = rest % 28 + 1;
        int serial = (i / (YEARS * DAYS_PER_YEAR)) % 1000;
        String base = String.format("%04d%02d%02d%03d", year, month, day, serial);
        return base + luhn(base.substring(2, 11));
    }

    private static char luhn(String nineDigits) {
        int sum = 0;
        for (int i = 0; i < nineDigits.length(); i++) {
            int d = (nineDigits.charAt(i) - '0') * (i % 2 == 0 ? 2 : 1);
            if (d > 9) {
                d -= 9;
            }
            sum += d;
        }
        return (char) ('0' + (10 - sum % 10) % 10);
    }
}
