Feature: Partial refunds
  In order to settle small complaints fairly
  As a store owner
  I want to refund part of an order, and put back in stock only what comes back

  Background:
    Given the store sells these products:
      | sku      | name    | colour | size | price | stock |
      | SWT-BK-M | sweater | black  | M    | 40.00 | 5     |
      | SCF-BL   | scarf   | blue   |      | 20.00 | 8     |
    And a customer previously bought these items from me:
      | sku      | quantity |
      | SWT-BK-M | 3        |
      | SCF-BL   | 1        |

  @api
  Scenario: Returning part of an order refunds only what came back
    When she returns two of the SWT-BK-M for a refund
    Then she should be refunded £80.00
    And the stock of SWT-BK-M should be 7
    And she can still return 1 SWT-BK-M

  @api
  Scenario: A refund for a flaw leaves the stock alone
    When I refund her £10.00 because "the scarf has a pulled thread"
    Then she should be refunded £10.00
    And the stock of SCF-BL should be 8

  @api
  Scenario: Partial refunds add up but never exceed what was paid
    When I make these partial refunds:
      | amount | reason             |
      | 20.00  | late delivery      |
      | 50.00  | wrong colour shade |
    Then she should be refunded £70.00 in total
    When I refund her £70.01 because "goodwill"
    Then the store should refuse with "only £70.00 of order"
    And she should be refunded £70.00 in total

  @api
  Scenario: A return after a partial refund pays back only what is left
    Given I refunded her £130.00 because "everything arrived a month late"
    When she returns the SCF-BL for a refund
    Then she should be refunded £10.00
    And she should be refunded £140.00 in total
    And the stock of SCF-BL should be 9

  @browser
  Scenario: A partial refund given on the order page
    When I refund her £12.50 because "a missing button"
    Then the order page should show "Refunded £12.50."
    And she should be refunded £12.50 in total
    And the stock of SWT-BK-M should be 5
