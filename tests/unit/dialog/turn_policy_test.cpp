// Specification of the turn-taking policy: finished sentences end a turn quickly, trailing words
// make Duet wait, noise tags are not speech, and backchannels do not claim the turn.
#include <gtest/gtest.h>

#include <limits>

#include "dialog/turn_policy.hpp"

namespace duet::dialog {
namespace {

TEST(TurnPolicy, AFinishedQuestionIsVeryLikelyTheEndOfTheTurn) {
  EXPECT_GE(end_of_turn_probability("What is the capital of France?"), 0.9);
  EXPECT_GE(end_of_turn_probability(" I would like a cup of tea."), 0.8);
}

TEST(TurnPolicy, AGreetingAloneIsWaitedForLikeAnUnfinishedSentence) {
  const TurnDetection semantic;
  for (const char* greeting : {"Hello Duet.", "Hi there!", "Hello you ass.", "Good morning.", "Hey."}) {
    EXPECT_LE(end_of_turn_probability(greeting), 0.5) << greeting;
    EXPECT_GT(silence_to_end_turn(semantic, end_of_turn_probability(greeting)),
              silence_to_end_turn(semantic, end_of_turn_probability("I like tea.")))
        << greeting;
  }
  // A greeting with the request, or a question, is a whole turn.
  EXPECT_GE(end_of_turn_probability("Hello Duet. What is the capital of France?"), 0.9);
  EXPECT_GE(end_of_turn_probability("Hi, are you there?"), 0.9);
  EXPECT_GE(end_of_turn_probability("Hello, I would like a cup of tea."), 0.8);
  EXPECT_GE(end_of_turn_probability("Good food is rare."), 0.8);
}

TEST(TurnPolicy, ATrailingConjunctionOrFillerMeansThePersonGoesOn) {
  EXPECT_LE(end_of_turn_probability("I want to go to the beach and"), 0.2);
  EXPECT_LE(end_of_turn_probability("So, um..."), 0.2);
  EXPECT_LE(end_of_turn_probability("I was thinking that,"), 0.2);
  EXPECT_LE(end_of_turn_probability("I would like to go to the"), 0.2);
}

TEST(TurnPolicy, NothingSaidHasNoTurnAtAll) {
  EXPECT_EQ(end_of_turn_probability(""), 0.0);
  EXPECT_EQ(end_of_turn_probability(" (coughing)"), 0.0);
}

TEST(TurnPolicy, IncompleteTurnsWaitLongerThanCompleteOnes) {
  TurnDetection semantic;
  EXPECT_LT(silence_to_end_turn(semantic, 0.95), silence_to_end_turn(semantic, 0.5));
  EXPECT_LT(silence_to_end_turn(semantic, 0.5), silence_to_end_turn(semantic, 0.1));
  // Eagerness shifts both.
  TurnDetection high = semantic, low = semantic;
  high.eagerness = "high";
  low.eagerness = "low";
  EXPECT_LT(silence_to_end_turn(high, 0.95), silence_to_end_turn(low, 0.95));
  EXPECT_LT(silence_to_end_turn(high, 0.1), silence_to_end_turn(low, 0.1));
}

TEST(TurnPolicy, TheVoicesPitchAtTheEndReadsAsFallingRisingOrUnclear) {
  // Slope over the last 0.3 s (semitones per second), rise of the last frames (semitones): as
  // `duet listen` measured espeak-ng saying "... at seven." and "... at seven," and the Piper
  // voice's "... on the train this morning."
  EXPECT_EQ(end_pitch(-5.5f, 0.1f), EndPitch::Falling);
  EXPECT_EQ(end_pitch(6.3f, 1.7f), EndPitch::Rising);
  EXPECT_EQ(end_pitch(0.7f, 0.8f), EndPitch::Unknown);
  // A fall that climbs back at the very end is no clear fall; a slope alone is no rise.
  EXPECT_EQ(end_pitch(-5.2f, 5.5f), EndPitch::Unknown);
  EXPECT_EQ(end_pitch(7.5f, 0.0f), EndPitch::Unknown);
  // No pitch (whispered, too short) and broken numbers say nothing.
  EXPECT_EQ(end_pitch(0.0f, 0.0f), EndPitch::Unknown);
  EXPECT_EQ(end_pitch(std::numeric_limits<float>::quiet_NaN(), 2.0f), EndPitch::Unknown);
  EXPECT_EQ(end_pitch(5.0f, std::numeric_limits<float>::infinity()), EndPitch::Unknown);
  EXPECT_STREQ(end_pitch_name(EndPitch::Falling), "falling");
  EXPECT_STREQ(end_pitch_name(EndPitch::Rising), "rising");
  EXPECT_STREQ(end_pitch_name(EndPitch::Unknown), "unknown");
}

TEST(TurnPolicy, AFinishedStatementEndingLowIsTakenLikeAQuestionAndOneEndingHighIsWaitedFor) {
  const TurnDetection semantic;
  const double statement = end_of_turn_probability("Remind me to call the dentist at seven.");
  const int plain = silence_to_end_turn(semantic, statement);
  const int falling = silence_to_end_turn(semantic, statement, false, EndPitch::Falling);
  const int rising = silence_to_end_turn(semantic, statement, false, EndPitch::Rising);
  EXPECT_EQ(falling, silence_to_end_turn(semantic, 0.95));
  EXPECT_LT(falling, plain);
  EXPECT_GT(rising, plain);
  // A rising statement is still waited for far less than a trailing "and".
  EXPECT_LT(rising, silence_to_end_turn(semantic, end_of_turn_probability("I like tea and")));
  // Questions and unfinished sentences do not read the pitch: a question may rise or fall, and
  // a trailing word says enough.
  EXPECT_EQ(silence_to_end_turn(semantic, 0.95, false, EndPitch::Rising), silence_to_end_turn(semantic, 0.95));
  EXPECT_EQ(silence_to_end_turn(semantic, 0.15, false, EndPitch::Falling), silence_to_end_turn(semantic, 0.15));
  // server_vad's silence_duration_ms is exact whatever the voice does.
  TurnDetection server;
  server.type = TurnDetection::Type::ServerVad;
  server.silence_duration_ms = 500;
  EXPECT_EQ(silence_to_end_turn(server, statement, false, EndPitch::Falling), 500);
  EXPECT_EQ(silence_to_end_turn(server, statement, false, EndPitch::Rising), 500);
  // After a barge-in the longer wait still holds.
  EXPECT_GE(silence_to_end_turn(semantic, statement, true, EndPitch::Falling), 2 * turn_waits(semantic).short_ms);
}

TEST(TurnPolicy, AQuestionMarkAfterAWordThatNeedsMoreIsAHesitationNotAnEnd) {
  // Whisper's punctuation of "How long does it take to ... boil an egg?" at the pause.
  EXPECT_LE(end_of_turn_probability("How long does it take to?"), 0.2);
  EXPECT_LE(end_of_turn_probability("What is a good name for?"), 0.2);
  EXPECT_GE(end_of_turn_probability("How long does it take?"), 0.9);
}

TEST(TurnPolicy, WordsThatOftenTrailAlsoEndFinishedSentences) {
  // A real question or a full stop after "you", "so", "well", "that": an end, not a hesitation.
  EXPECT_GE(end_of_turn_probability("How are you?"), 0.9);
  EXPECT_GE(end_of_turn_probability("What are you talking about?"), 0.9);
  EXPECT_GE(end_of_turn_probability("Thank you."), 0.6);
  EXPECT_GE(end_of_turn_probability("The basement is wet as well."), 0.6);
  EXPECT_GE(end_of_turn_probability("I think so."), 0.6);
  // Waited for a little longer than a plain statement, far less than a trailing "and".
  TurnDetection semantic;
  const int soft = silence_to_end_turn(semantic, end_of_turn_probability("I like that."));
  EXPECT_GT(soft, silence_to_end_turn(semantic, end_of_turn_probability("I like tea.")));
  EXPECT_LT(soft, silence_to_end_turn(semantic, end_of_turn_probability("I like tea and")));
  // Without the mark they still trail.
  EXPECT_LE(end_of_turn_probability("I was thinking that"), 0.2);
  EXPECT_LE(end_of_turn_probability("So you"), 0.2);
}

TEST(TurnPolicy, ATranscriptWithoutAnEndMarkIsUnmarkedWhateverItsWords) {
  // Whisper's reading of "How many legs does a spider have?" cut 90 ms after the voice.
  EXPECT_TRUE(ends_unmarked("How many lands done a spider can"));
  EXPECT_TRUE(ends_unmarked(" I left it on the train (coughing)"));  // a noise tag is not a mark
  EXPECT_FALSE(ends_unmarked("How many legs does a spider have?"));
  EXPECT_FALSE(ends_unmarked("I went to the shop and..."));
  EXPECT_FALSE(ends_unmarked("Well,"));
  EXPECT_FALSE(ends_unmarked("(music)"));  // nothing said
  EXPECT_FALSE(ends_unmarked(""));
}

TEST(TurnPolicy, ASentenceEndingInAVerbThatNeedsAnObjectIsProbablyNotOver) {
  // Whisper's full stop at a hesitation: "I would like to bake ... a cake" heard as far as "make."
  EXPECT_LT(end_of_turn_probability("I would like to make."), 0.5);
  EXPECT_GT(end_of_turn_probability("I would like to go home."), 0.8);
}

TEST(TurnPolicy, AFinishedQuestionIsTakenSoonerThanAFinishedStatement) {
  TurnDetection semantic;
  const double question = end_of_turn_probability("Where is the station?");
  const double statement = end_of_turn_probability("I would like to go home.");
  EXPECT_GT(question, statement);
  EXPECT_LT(silence_to_end_turn(semantic, question), silence_to_end_turn(semantic, statement));
  // Still a real pause, never an interruption of a breath.
  EXPECT_GE(silence_to_end_turn(semantic, question), 100);
}

TEST(TurnPolicy, AfterInterruptingDuetEvenAFinishedQuestionWaitsTwiceTheStatementWait) {
  TurnDetection semantic;
  const double stop = end_of_turn_probability("Stop, stop.");
  EXPECT_GE(silence_to_end_turn(semantic, stop, true), 2 * silence_to_end_turn(semantic, stop));
  // Said over Duet's voice, "How long does it take to ... boil an egg?" was heard as "How long do
  // I need to take two?" at the hesitation: the question mark is no sure end there.
  const double question = end_of_turn_probability("How long do I need to take two?");
  EXPECT_GE(silence_to_end_turn(semantic, question, true), 2 * turn_waits(semantic).short_ms);
  EXPECT_LT(silence_to_end_turn(semantic, question), silence_to_end_turn(semantic, question, true));
  TurnDetection server;
  server.type = TurnDetection::Type::ServerVad;
  server.silence_duration_ms = 500;
  EXPECT_EQ(silence_to_end_turn(server, stop, true), 500);
}

TEST(TurnPolicy, ServerVadWaitsTheConfiguredSilenceWhateverWasSaid) {
  TurnDetection server;
  server.type = TurnDetection::Type::ServerVad;
  server.silence_duration_ms = 700;
  EXPECT_EQ(silence_to_end_turn(server, 0.95), 700);
  EXPECT_EQ(silence_to_end_turn(server, 0.1), 700);
}

TEST(TurnPolicy, WhisperNoiseTagsAreRemovedFromTheTranscript) {
  EXPECT_EQ(spoken_text(" [MUSIC]"), "");
  EXPECT_EQ(spoken_text("(coughs) Hello there."), "Hello there.");
  EXPECT_EQ(spoken_text("\xE2\x99\xAA \xE2\x99\xAA"), "");
  EXPECT_EQ(spoken_text(" *laughs* okay  then "), "okay then");
  EXPECT_EQ(spoken_text(" . . ."), "");
}

TEST(TurnPolicy, BackchannelsAreRecognisedButRealTurnsAreNot) {
  EXPECT_TRUE(is_backchannel("Yeah."));
  EXPECT_TRUE(is_backchannel(" Mm-hm."));
  EXPECT_TRUE(is_backchannel("Okay, okay."));
  EXPECT_TRUE(is_backchannel("Uh-huh"));
  EXPECT_FALSE(is_backchannel("Yeah, but what about tomorrow?"));
  EXPECT_FALSE(is_backchannel("Stop."));
  EXPECT_FALSE(is_backchannel(""));
}

TEST(TurnPolicy, ShortSpeechOverDuetLeavesItTheTurnUnlessItAsksToStopOrAsks) {
  // A quiet "yeah" misheard as "here." is still only an aside.
  EXPECT_TRUE(leaves_duet_the_turn(" here.", 300, 400));
  EXPECT_TRUE(leaves_duet_the_turn("Mm-hm.", 900, 400));
  EXPECT_FALSE(leaves_duet_the_turn("Wait.", 300, 400));
  EXPECT_FALSE(leaves_duet_the_turn("No, no.", 350, 400));
  EXPECT_FALSE(leaves_duet_the_turn("Why?", 300, 400));
  // Long enough to have interrupted: a real turn.
  EXPECT_FALSE(leaves_duet_the_turn("here.", 400, 400));
  EXPECT_FALSE(leaves_duet_the_turn("Tell me about the moon.", 1200, 400));
}

}  // namespace
}  // namespace duet::dialog
