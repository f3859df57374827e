/* templates.c: the RULER prompt strings (docs/ruler.md) and the
 * model templates that wrap them. */
#include "templates.h"

#include <string.h>

const char TASKS_NIAH_NEEDLE[] = "One of the special magic {type_needle_v} for {key} is: {value}.";

const char TASKS_NOISE_SENTENCE[] =
    "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";

const char TASKS_QA_DOCUMENT[] = "Document {i}:\n{document}";

static const task_template family_templates[] = {
    [FAMILY_NIAH] = {
        "Some special magic {type_needle_v} are hidden within the following text. Make sure to "
        "memorize it. I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are "
        "all the special magic {type_needle_v} for {query} mentioned in the provided text?",
        " The special magic {type_needle_v} for {query} mentioned in the provided text are"},
    [FAMILY_VT] = {
        "Memorize and track the chain(s) of variable assignment hidden in the following "
        "text.\n\n{context}\nQuestion: Find all variables that are assigned the value {query} "
        "in the text above.",
        " Answer: According to the chain(s) of variable assignment in the text above, {num_v} "
        "variables are assigned the value {query}, they are: "},
    [FAMILY_CWE] = {
        "Below is a numbered list of words. In these words, some appear more often than others. "
        "Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most "
        "common words in the above list?",
        " Answer: The top 10 words that appear most often in the list are:"},
    [FAMILY_FWE] = {
        "Read the following coded text and track the frequency of each coded word. Find the three "
        "most frequently appeared coded words. {context}\nQuestion: Do not provide any "
        "explanation. Please ignore the dots '....'. What are the three most frequently appeared "
        "words in the above coded text?",
        " Answer: According to the coded text above, the three most frequently appeared words "
        "are:"},
    [FAMILY_QA] = {
        "Answer the question based on the given documents. Only give me the answer and do not "
        "output any other words.\n\nThe following are given documents.\n\n{context}\n\nAnswer "
        "the question based on the given documents. Only give me the answer and do not output "
        "any other words.\n\nQuestion: {query}",
        " Answer:"},
};

const task_template *tasks_template_for_family(lcx_family f) { return &family_templates[f]; }

/* Model templates: RULER's scripts/data/template.py (main, c3f5e3b), byte
 * for byte, under lcx's short name with RULER's own name as an alias, plus
 * chatml (not in RULER). `base` sends the task as is; chat templates open
 * the user turn, close it and open the assistant turn, where the answer
 * prefix then goes. */
static const lcx_template model_templates[] = {
    {"base", "{task_template}", "base"},
    {"chatml", "<|im_start|>user\n{task_template}<|im_end|>\n<|im_start|>assistant\n", NULL},
    {"llama3", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{task_template}"
               "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
     "meta-llama3"},
    {"meta-chat", "[INST] {task_template} [/INST]", "meta-chat"},
    {"phi3", "<|user|>\n{task_template}<|end|>\n<|assistant|>\n", "Phi3"},
    {"vicuna-chat", "A chat between a curious user and an artificial intelligence assistant. The "
                    "assistant gives helpful, detailed, and polite answers to the user's "
                    "questions. USER: {task_template} ASSISTANT:",
     "vicuna-chat"},
    {"command-r", "<BOS_TOKEN><|START_OF_TURN_TOKEN|><|USER_TOKEN|>{task_template}"
                  "<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",
     "command-r-chat"},
    {"lwm-chat", "You are a helpful assistant. USER: {task_template} ASSISTANT: ", "lwm-chat"},
    {"chatglm", "[gMASK]sop<|user|> \n {task_template}<|assistant|> \n ", "chatglm-chat"},
    {"rwkv", "User: hi\n\nAssistant: Hi. I am your assistant and I will provide expert full "
             "response in full details. Please feel free to ask any question and I will always "
             "answer it\n\nUser: {task_template}\n\nAssistant:",
     "RWKV"},
    {"jamba", "<|startoftext|><|bom|><|system|> <|eom|><|bom|><|user|> {task_template}<|eom|>"
              "<|bom|><|assistant|>",
     "jamba"},
    {"nemotron5", "<SPECIAL_10>System\n\n<SPECIAL_11>User\n{task_template}\n<SPECIAL_11>"
                  "Assistant\n",
     "nemotron5-instruct"},
};

size_t lcx_template_count(void) { return sizeof model_templates / sizeof model_templates[0]; }

const lcx_template *lcx_template_at(size_t i)
{
    return i < lcx_template_count() ? &model_templates[i] : NULL;
}

const lcx_template *lcx_template_find(const char *name)
{
    for (size_t i = 0; i < lcx_template_count(); i++)
        if (!strcmp(model_templates[i].name, name) ||
            (model_templates[i].ruler_name && !strcmp(model_templates[i].ruler_name, name)))
            return &model_templates[i];
    return NULL;
}

const char *lcx_template_names(void)
{
    return "base, chatml, llama3, meta-chat, phi3, vicuna-chat, command-r, lwm-chat, chatglm, "
           "rwkv, jamba, nemotron5, or RULER's names";
}
